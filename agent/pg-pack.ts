import { createControlClient, isPgClient, isPgPool, packPg, type PackContext } from '../proxy';
import type { AgentOptions } from './config';
import type { Packer } from './capture/closure';
import { CaptureErrors } from './capture/errors';

/**
 * pg clients and pools in a closure become proxy hand-offs (DESIGN.md §4 "Packageable"): through
 * the in-process proxy handle, or the proxy's control endpoint. Without a proxy, a handler that
 * reaches a pg object stays local, with that reason.
 */
export function makePacker(o: AgentOptions): (capability: string, shadow: boolean) => Packer {
  const target = o.proxyUrl ? new URL(o.proxyUrl) : o.proxy ? new URL(o.proxy.url) : undefined;
  const control = o.proxy ?? (o.proxyControl && o.proxyControlToken ? createControlClient({ url: o.proxyControl, token: o.proxyControlToken }) : undefined);
  if (!target || !control) {
    return () => (v) => {
      if (isPgClient(v) || isPgPool(v)) {
        throw CaptureErrors.UNSUPPORTED('uses a pg client or pool: start the BeeHive proxy and set BEEHIVE_PROXY_URL and BEEHIVE_PROXY_CONTROL to offload it');
      }
      return undefined;
    };
  }
  const proxy = { host: target.hostname, port: Number(target.port || 5432), database: target.pathname.slice(1) || undefined };
  const aliases = o.proxy ? [o.proxy.address] : [];
  return (capability, shadow) => {
    const ctx: PackContext = {
      proxy,
      proxyAliases: aliases,
      prepareHandoff: (r) => control.prepareHandoff(r),
      preparePoolGrant: (r) => control.preparePoolGrant(r),
      capability,
      shadow,
      ttlMs: o.timeoutMs + 5000,
    };
    return (v) => packPg(v, ctx) as ReturnType<Packer>;
  };
}
