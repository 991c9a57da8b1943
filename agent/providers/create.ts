import path from 'node:path';
import type { Provider } from '../../protocol';
import type { AgentOptions } from '../config';
import { LocalProvider } from './local';

/** The provider for `BEEHIVE_PLATFORM`. FaaS providers load only when chosen. */
export function createProvider(o: AgentOptions): Provider {
  switch (o.platform) {
    case 'local':
      return new LocalProvider({ workers: o.workers, env: { BEEHIVE_APP_ROOT: path.resolve(o.appRoot) } });
    case 'lambda': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const m = require('./lambda');
      return m.createLambdaProvider(m.providerOptionsFromEnv(process.env));
    }
    case 'openwhisk': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const m = require('./openwhisk');
      return m.createOpenWhiskProvider(m.providerOptionsFromEnv(process.env));
    }
  }
}
