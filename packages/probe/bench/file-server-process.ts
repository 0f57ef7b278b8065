/** The paced file server in a process of its own, so the bench's meter and curl share no event loop with it. */
import { startThrottledServer } from "../test/support/throttled-server.js";

const server = await startThrottledServer();
console.log(server.origin);
process.stdin.resume();
process.stdin.on("end", () => void server.close().then(() => process.exit(0)));
