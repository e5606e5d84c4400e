// Entry point of leengine-cni when it runs directly (see direct.ts). Node's compile
// cache is turned on before anything else loads: it roughly halves the start-up of a
// process that is started once per CNI call.
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('./direct.ts');
