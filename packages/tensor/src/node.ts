/**
 * @zerograd/tensor/node — worker threads for the WebAssembly kernels, in Node only (the main entry
 * imports no `node:` module). The thread pool is part of the WebAssembly kernel set.
 */
export { enableThreads, disableThreads, threadCount } from "./kernels/wasm/threads.js";
