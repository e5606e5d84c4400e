// cnictl's entry point (see cnictl.ts). Node's compile cache first: the Kubernetes
// client alone takes about a second to compile.
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { runCnictl } = await import('./cnictl.ts');
const code = await runCnictl(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
process.exit(code);
