#!/usr/bin/env node
'use strict';
/**
 * The floor of any proxy built on Node's net.Socket streams: a byte relay with one upstream
 * connection per client, no parsing, no pooling. A reference peer of bench/proxy/run.js.
 *
 *   node bench/proxy/relay.js LISTEN_PORT UPSTREAM_PORT
 */
const net = require('node:net');
const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
net
  .createServer({ noDelay: true }, (client) => {
    const up = net.connect({ host: '127.0.0.1', port: upstreamPort, noDelay: true });
    client.on('data', (d) => up.write(d));
    up.on('data', (d) => client.write(d));
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    client.on('error', () => {});
    up.on('error', () => {});
  })
  .listen(listenPort, '127.0.0.1', () => console.log('listening on'));
