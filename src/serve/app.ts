/**
 * The service as a module for `deno serve` (`deno serve --parallel
 * src/serve/app.ts`): the Hono app of service.ts as the default export, the
 * model loaded before the module finishes evaluating (deno serve listens only
 * after that). `deno task serve` runs the service through runner.ts instead,
 * whose workers also time out idle and slow connections, which deno serve
 * cannot (connections.ts).
 *
 * A start that cannot succeed is one line (`serve: cannot start: ...`) and
 * exit 2; Deno.exit in one worker of `deno serve --parallel` ends the process.
 * SIGTERM and SIGINT flush the prediction log before the worker exits.
 */
import { StartError, startService } from "./service.ts";
import { errorLine } from "../core/errors.ts";

let service;
try {
  service = await startService();
} catch (e) {
  console.error(`serve: ${e instanceof StartError ? e.message : errorLine(e)}`);
  Deno.exit(2);
}

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  try {
    Deno.addSignalListener(sig, () => {
      void service.shutdown(sig).then((line) => {
        console.log(line);
        Deno.exit(0);
      });
    });
  } catch { /* signals unavailable (e.g. Windows SIGTERM) */ }
}

export default service.app;
