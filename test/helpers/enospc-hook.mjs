// Test-only fallback for machines that cannot mount a small tmpfs: loaded into the blobmirror
// child with NODE_OPTIONS=--import, it makes writes through fs.write/fs.writev (what write streams
// use, i.e. blob downloads) to files under ENOSPC_DIR fail with ENOSPC once ENOSPC_BUDGET bytes
// have been written there. Product code has no hook for this.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const dir = process.env.ENOSPC_DIR;
let budget = Number(process.env.ENOSPC_BUDGET ?? 0);
const watched = new Set();

if (dir) {
  const { open, write, writev, close } = fs;
  fs.open = function (path, ...rest) {
    const callback = rest.pop();
    return open.call(fs, path, ...rest, (error, fd) => {
      if (!error && String(path).startsWith(dir)) watched.add(fd);
      callback(error, fd);
    });
  };
  fs.close = function (fd, callback) {
    watched.delete(fd);
    return close.call(fs, fd, callback);
  };
  const full = (fd, length, callback) => {
    if (!watched.has(fd)) return false;
    if (budget >= length) {
      budget -= length;
      return false;
    }
    const error = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
    });
    process.nextTick(callback, error);
    return true;
  };
  fs.write = function (fd, buffer, ...rest) {
    const callback = rest.at(-1);
    if (full(fd, buffer.length, callback)) return;
    return write.call(fs, fd, buffer, ...rest);
  };
  fs.writev = function (fd, buffers, ...rest) {
    const callback = rest.at(-1);
    if (
      full(
        fd,
        buffers.reduce((sum, b) => sum + b.length, 0),
        callback,
      )
    )
      return;
    return writev.call(fs, fd, buffers, ...rest);
  };
  syncBuiltinESMExports();
}
