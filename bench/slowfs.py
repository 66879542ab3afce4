#!/usr/bin/python3
"""Slow storage for the benchmark and the tests: a read-only FUSE passthrough of a directory that adds a fixed
latency to every read and caps the bandwidth of every open file.

    /usr/bin/python3 bench/slowfs.py SOURCE MOUNTPOINT [--latency-ms 5] [--mbps 100] [--meta-latency-ms 0]
        [--stats FILE] [--hold FILE] [--fail-after BYTES]

Runs in the foreground until SIGTERM/SIGINT, then unmounts (if it dies, `fusermount3 -u -z MOUNTPOINT` or
`umount -l MOUNTPOINT` does it). Needs Debian's python3-fusepy (libfuse2) and /dev/fuse; as root no fusermount is
needed. Mounted read-only (`-o ro`).

The model of one read of n bytes on an open file: it waits for the file's bandwidth (n / MBPS after the file's
previous read has had its share, so parallel reads of one file share MBPS between them), then LATENCY more, as
network or object storage does. Reads are answered by libfuse's thread pool, one thread per request in flight,
and sleep without Python's global lock: many reads wait in parallel, none waits for another's latency.
`--allow-other` lets other users read the mount (nginx's workers run as www-data). `--meta-latency-ms` adds a
latency to getattr, open and readdir too (default 0: metadata is fast). `--hold FILE` (for tests): while FILE exists,
every getattr, readdir and open waits, as on a stalled network mount; the number waiting is written to FILE.waiting.
`--fail-after BYTES` (for tests): a read of a file whose name starts with `broken` that reaches past BYTES fails with
EIO, as a failing disk does, and an open of a file whose name starts with `unopenable` fails with EMFILE, as in a
process that has no descriptor left.

The kernel sends at most `max_background` asynchronous (read-ahead) requests per FUSE connection at once (12 by
default); as root the mount raises it to `--max-background` (default 1024) through /sys/fs/fuse/connections,
mounting fusectl there if need be, so that the kernel does not serialize the reads of many clients.
"""
import argparse
import errno
import os
import sys
import threading
import time

try:
    from fusepy import FUSE, FuseOSError, Operations
except ImportError:  # fusepy from PyPI names its module fuse
    from fuse import FUSE, FuseOSError, Operations


class SlowFs(Operations):
    use_ns = True

    def __init__(self, source, latency_s, bytes_per_s, meta_latency_s, stats=None, hold=None, fail_after=None):
        self.source = os.path.realpath(source)
        self.fail_after = fail_after  # reads of broken* files reaching past this offset fail with EIO
        self.hold = hold  # while this file exists, metadata calls and opens wait
        self.calls_waiting = 0
        self.stats = stats  # a file that gets the most reads seen in flight at once, each time it grows
        self.in_flight = 0
        self.most_in_flight = 0
        self.latency = latency_s
        self.rate = bytes_per_s
        self.meta_latency = meta_latency_s
        self.mutex = threading.Lock()
        self.next_free = {}  # fh -> monotonic time at which the file's bandwidth is free again

    def _path(self, path):
        return os.path.join(self.source, path.lstrip('/'))

    def _write_count(self, path, count):
        with open(path + '.new', 'w') as f:
            f.write('%d\n' % count)
        os.replace(path + '.new', path)

    def _hold(self):
        if not self.hold or not os.path.exists(self.hold):
            return
        with self.mutex:
            self.calls_waiting += 1
            self._write_count(self.hold + '.waiting', self.calls_waiting)
        try:
            while os.path.exists(self.hold):
                time.sleep(0.01)
        finally:
            with self.mutex:
                self.calls_waiting -= 1
                self._write_count(self.hold + '.waiting', self.calls_waiting)

    def _meta_wait(self):
        self._hold()
        if self.meta_latency > 0:
            time.sleep(self.meta_latency)

    def getattr(self, path, fh=None):
        self._meta_wait()
        try:
            st = os.lstat(self._path(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        attrs = {k: getattr(st, k) for k in ('st_mode', 'st_nlink', 'st_size', 'st_uid', 'st_gid',
                                              'st_atime_ns', 'st_mtime_ns', 'st_ctime_ns')}
        for k in ('st_atime', 'st_mtime', 'st_ctime'):
            attrs[k] = attrs.pop(k + '_ns')
        # read-only: no write bits
        attrs['st_mode'] &= ~0o222
        return attrs

    def readdir(self, path, fh):
        self._meta_wait()
        try:
            return ['.', '..'] + os.listdir(self._path(path))
        except OSError as e:
            raise FuseOSError(e.errno)

    def readlink(self, path):
        try:
            return os.readlink(self._path(path))
        except OSError as e:
            raise FuseOSError(e.errno)

    def access(self, path, amode):
        if amode & os.W_OK:
            raise FuseOSError(errno.EROFS)
        if not os.access(self._path(path), amode):
            raise FuseOSError(errno.EACCES)

    def statfs(self, path):
        st = os.statvfs(self._path(path))
        return {k: getattr(st, k) for k in ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail', 'f_ffree',
                                             'f_files', 'f_flag', 'f_frsize', 'f_namemax')}

    def open(self, path, flags):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_TRUNC | os.O_CREAT):
            raise FuseOSError(errno.EROFS)
        self._meta_wait()
        if self.fail_after is not None and os.path.basename(path).startswith('unopenable'):
            raise FuseOSError(errno.EMFILE)
        try:
            fh = os.open(self._path(path), os.O_RDONLY)
        except OSError as e:
            raise FuseOSError(e.errno)
        with self.mutex:
            self.next_free[fh] = 0.0
        return fh

    def read(self, path, size, offset, fh):
        if (self.fail_after is not None and os.path.basename(path).startswith('broken')
                and offset + size > self.fail_after):
            raise FuseOSError(errno.EIO)
        data = os.pread(fh, size, offset)
        now = time.monotonic()
        with self.mutex:
            start = max(now, self.next_free.get(fh, 0.0))
            free = start + (len(data) / self.rate if self.rate > 0 else 0.0)
            self.next_free[fh] = free
            self.in_flight += 1
            if self.stats and self.in_flight > self.most_in_flight:
                self.most_in_flight = self.in_flight
                self._write_count(self.stats, self.most_in_flight)
        try:
            delay = free + self.latency - now
            if delay > 0:
                time.sleep(delay)  # releases the GIL: other reads go on meanwhile
        finally:
            with self.mutex:
                self.in_flight -= 1
        return data

    def release(self, path, fh):
        with self.mutex:
            self.next_free.pop(fh, None)
        os.close(fh)
        return 0


def raise_max_background(mountpoint, value):
    """As root: lets the kernel keep `value` asynchronous requests in flight on this mount instead of 12."""
    conns = '/sys/fs/fuse/connections'
    try:
        if not os.listdir(conns):
            os.system('mount -t fusectl none %s 2>/dev/null' % conns)
        dev = os.stat(mountpoint).st_dev
        path = os.path.join(conns, str(os.minor(dev)))
        with open(os.path.join(path, 'max_background'), 'w') as f:
            f.write(str(value))
        with open(os.path.join(path, 'congestion_threshold'), 'w') as f:
            f.write(str(value * 3 // 4))
        return True
    except OSError as e:
        print('slowfs: could not raise max_background (%s): the kernel keeps 12 read-aheads in flight' % e,
              file=sys.stderr)
        return False


# glibc keeps the daemon's freed read buffers and heaps (see keep_heap) instead of handing them back to the kernel.
HEAP_TUNABLES = ('glibc.malloc.trim_threshold=67108864:glibc.malloc.mmap_threshold=4194304'
                 ':glibc.malloc.top_pad=16777216')


def keep_heap():
    """Runs this script again with HEAP_TUNABLES, once (same process: exec keeps the PID that callers wait on).

    Each read returns a new 128 KiB buffer. By default glibc hands freed memory of that size back to the kernel
    (unmapping it, or trimming the thread's heap), with a TLB shootdown on the other cores, and the next buffer's pages
    fault in again. Measured at 400 clients: that cost grew by a third to a half per byte when the server kept a few
    more reads in flight, which a network file system's client would not do, and on a 2-core machine it is CPU the
    server does not get. Tunables are read by glibc at start-up only, hence the exec.
    """
    if os.environ.get('SLOWFS_HEAP_KEPT'):
        return
    env = dict(os.environ, SLOWFS_HEAP_KEPT='1')
    env['GLIBC_TUNABLES'] = ':'.join(t for t in (os.environ.get('GLIBC_TUNABLES'), HEAP_TUNABLES) if t)
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def main():
    keep_heap()
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('source')
    p.add_argument('mountpoint')
    p.add_argument('--latency-ms', type=float, default=5.0, help='added to every read (default 5)')
    p.add_argument('--mbps', type=float, default=100.0,
                   help='bandwidth cap per open file, 10^6 bytes/s (default 100; 0 = none)')
    p.add_argument('--meta-latency-ms', type=float, default=0.0,
                   help='added to getattr, open and readdir (default 0)')
    p.add_argument('--allow-other', action='store_true',
                   help='let other users (e.g. nginx workers running as www-data) read the mount')
    p.add_argument('--stats', metavar='FILE',
                   help='write the most reads seen in flight at once to FILE, each time it grows (for tests)')
    p.add_argument('--hold', metavar='FILE',
                   help='while FILE exists, getattr, readdir and open wait; their number goes to FILE.waiting (tests)')
    p.add_argument('--fail-after', type=int, metavar='BYTES',
                   help='reads of files named broken* that reach past BYTES fail with EIO, as a bad disk (tests)')
    p.add_argument('--max-background', type=int, default=1024,
                   help='asynchronous FUSE requests in flight per mount, set as root (default 1024; 0 = leave)')
    a = p.parse_args()
    if not os.path.isdir(a.source):
        p.error('not a directory: %s' % a.source)
    fs = SlowFs(a.source, a.latency_ms / 1000.0, a.mbps * 1e6, a.meta_latency_ms / 1000.0, a.stats, a.hold,
               a.fail_after)
    if a.max_background > 0 and os.geteuid() == 0:
        def raise_when_mounted():
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if os.path.ismount(a.mountpoint):
                    if raise_max_background(a.mountpoint, a.max_background):
                        print('slowfs: max_background %d' % a.max_background, file=sys.stderr)
                    return
                time.sleep(0.05)
        threading.Thread(target=raise_when_mounted, daemon=True).start()
    print('slowfs: %s on %s, %.1f ms per read, %.0f MB/s per open file, %.1f ms per metadata call'
          % (fs.source, a.mountpoint, a.latency_ms, a.mbps, a.meta_latency_ms), file=sys.stderr)
    options = {'allow_other': True} if a.allow_other else {}
    FUSE(fs, a.mountpoint, foreground=True, nothreads=False, ro=True, fsname='slowfs', subtype='slowfs',
         default_permissions=True, **options)


if __name__ == '__main__':
    main()
