package dev.sluice.launcher;

import dev.sluice.stream.FileRegions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * The launcher's connector with {@code --sendfile}: its endpoints send a mapped chunk that the engine offers as a
 * file region ({@link FileRegions}) with {@link FileChannel#transferTo} (Linux {@code sendfile}), from the page
 * cache to the socket, instead of copying the mapping's bytes with {@code write}.
 *
 * <p>Why at the endpoint, the bottom of Jetty's stack: every layer above it counts a write by its buffer's
 * {@code remaining()} (the servlet's {@code HttpOutput}, the core response's Content-Length check, the HTTP/1.1
 * generator, the {@code WriteFlusher}), and the endpoint's {@code flush} is where the buffer is consumed. Sending
 * the same bytes from the file and advancing the buffer's position by what the kernel took is, to every layer,
 * indistinguishable from a {@code write} of the buffer (but for when the bytes are read: the kernel reads them
 * from the page cache as they leave the socket, so a change of the file in place reaches bytes still queued,
 * docs/sendfile-jetty.md, "What it gives up"): the accounting, the partial writes (the
 * {@code WriteFlusher} registers write interest and flushes the rest when the socket takes data), pipelining
 * (flushes are serialized, in order) and the persistent-connection state stay Jetty's own. Nothing of Jetty's is
 * reached by reflection or changed.
 *
 * <p>Only on an HTTP/1.1 connection ({@link HttpConnection}, which writes a Content-Length body's buffer as the
 * servlet gave it): an h2c connection (upgraded or by prior knowledge) frames its data and keeps the portable
 * path; TLS would wrap the buffer before it reached this endpoint (the launcher has no TLS).
 *
 * <h2>Why a client on the same machine may get copies</h2>
 * With {@code sameMachineToo} false (the launcher's default, {@code --sendfile=remote}), a connection whose client
 * is on this machine (a loopback address, or the connection's own local address: a reverse proxy or a client on the
 * same host) gets Jetty's plain endpoint, which copies. Measured on loopback (docs/sendfile-jetty.md, "A client on
 * the same machine"): the receiving process spent 1.3 to 1.5 times the CPU per GB on bytes sent with
 * {@code sendfile} than on bytes sent by copying, while the server's own CPU per GB was about the same either way,
 * so copying cost the machine less in total and moved more bytes on the same cores. A client on another machine
 * pays its receive on its own CPU, and there {@code sendfile} saves the server its copy. Decided once per
 * connection, when it is accepted.
 */
public final class SendfileConnector extends LauncherConnector {

    private final LongAdder sentFromFiles = new LongAdder();
    private final boolean sameMachineToo;

    private SendfileConnector(Server server, int acceptors, int selectors, boolean sameMachineToo,
            ConnectionFactory... factories) {
        super(server, acceptors, selectors, factories);
        this.sameMachineToo = sameMachineToo;
    }

    /**
     * A connector whose HTTP/1.1 connections send the engine's mapped chunks with {@code sendfile}, to every client
     * when {@code sameMachineToo}, else to clients on other machines only (see the class comment); it turns the
     * engine's offers on ({@link FileRegions#enable()}, for the whole JVM: a chunk no endpoint claims is written as
     * before).
     */
    public static SendfileConnector create(Server server, int acceptors, int selectors, boolean sameMachineToo,
            ConnectionFactory... factories) {
        FileRegions.enable();
        return new SendfileConnector(server, acceptors, selectors, sameMachineToo, factories);
    }

    @Override
    protected SocketChannelEndPoint newEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key)
            throws IOException {
        if (!sameMachineToo && onThisMachine(channel)) {
            return super.newEndPoint(channel, selector, key);
        }
        SendfileEndPoint endpoint = new SendfileEndPoint(channel, selector, key, getScheduler(), sentFromFiles);
        endpoint.setIdleTimeout(getIdleTimeout());
        return endpoint;
    }

    private static boolean onThisMachine(SocketChannel channel) {
        try {
            return onThisMachine(channel.getLocalAddress(), channel.getRemoteAddress());
        } catch (IOException e) {
            return false; // closed already: whichever endpoint it gets fails its first read
        }
    }

    /**
     * Whether the client at {@code remote} is on this machine: a loopback address, or the connection's own local
     * address (a client that connected to one of this host's addresses from the host itself).
     */
    static boolean onThisMachine(SocketAddress local, SocketAddress remote) {
        if (!(remote instanceof InetSocketAddress peer) || peer.getAddress() == null) {
            return false;
        }
        InetAddress client = peer.getAddress();
        return client.isLoopbackAddress()
                || local instanceof InetSocketAddress own && client.equals(own.getAddress());
    }

    /** Body bytes this connector's endpoints sent with {@code transferTo}, not copied. */
    long sentFromFiles() {
        return sentFromFiles.sum();
    }

    /**
     * A socket endpoint that sends a claimed file region with {@code transferTo}.
     *
     * <p>{@link #region} is the region of the write in flight, claimed during its first flush (on the servlet's
     * writing thread) and used by the later flushes of the same write, on whichever thread Jetty's
     * {@code WriteFlusher} runs them. The {@code WriteFlusher} runs one flush at a time and hands a pending write
     * from thread to thread through its atomic state, which orders this field's reads and writes.
     */
    static final class SendfileEndPoint extends SocketChannelEndPoint {

        private final LongAdder sentFromFiles;
        private FileRegions.Region region;

        SendfileEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key, Scheduler scheduler,
                LongAdder sentFromFiles) {
            super(channel, selector, key, scheduler);
            this.sentFromFiles = sentFromFiles;
        }

        @Override
        public boolean flush(ByteBuffer... buffers) throws IOException {
            if (region == null && getConnection() instanceof HttpConnection) {
                for (ByteBuffer buffer : buffers) {
                    region = FileRegions.claim(buffer);
                    if (region != null) {
                        break;
                    }
                }
            }
            int at = region == null ? -1 : indexOf(region.buffer(), buffers);
            if (at < 0) {
                region = null; // none, or its write failed and another one is flushed now
                return super.flush(buffers);
            }
            if (at > 0 && !super.flush(Arrays.copyOfRange(buffers, 0, at))) {
                return false; // the head (response headers) first, in order
            }
            if (!sendRegion()) {
                return false;
            }
            region = null;
            return at + 1 == buffers.length || super.flush(Arrays.copyOfRange(buffers, at + 1, buffers.length));
        }

        /**
         * Sends what the socket takes of the region now, advancing its buffer as a write would; true when all of
         * it went. A region whose file channel the transfer has closed (it ended meanwhile, for instance by its
         * stall check) goes as the mapped bytes it is, which stay valid after the close.
         */
        private boolean sendRegion() throws IOException {
            ByteBuffer body = region.buffer();
            FileChannel file = region.channel();
            while (body.hasRemaining()) {
                long position = region.position();
                long wanted = body.remaining();
                long sent;
                try {
                    sent = file.transferTo(position, wanted, getChannel());
                } catch (IOException e) {
                    if (!file.isOpen()) {
                        return super.flush(body);
                    }
                    throw new EofException(e);
                }
                if (sent > 0) {
                    body.position(body.position() + (int) sent);
                    sentFromFiles.add(sent);
                    notIdle();
                }
                if (sent < wanted) {
                    if (file.isOpen() && fileEndsBefore(file, position + wanted)) {
                        throw new EofException("the file shrank below the response's region, which ends at "
                                + (position + wanted));
                    }
                    return false; // the socket is full: the WriteFlusher waits for it (a closed file: see above)
                }
            }
            return true;
        }

        private static boolean fileEndsBefore(FileChannel file, long end) {
            try {
                return file.size() < end;
            } catch (IOException e) {
                return false; // closed meanwhile: the next flush sends the mapped bytes
            }
        }

        private static int indexOf(ByteBuffer buffer, ByteBuffer[] buffers) {
            for (int i = 0; i < buffers.length; i++) {
                if (buffers[i] == buffer) {
                    return i;
                }
            }
            return -1;
        }
    }
}
