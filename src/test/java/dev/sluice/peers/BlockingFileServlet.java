package dev.sluice.peers;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * A deliberately naive, <em>blocking</em> file servlet: a <strong>test peer, not production code</strong>.
 *
 * <p>It is the "naive blocking servlet" that the benchmark ({@code bench/run}, via {@link PeerServer}
 * {@code --kind=blocking}) compares Sluice against, and the servlet that tests use to show that a
 * blocking copy holds one container thread per download for the whole transfer, and so starves a
 * small thread pool.
 *
 * <p>GET and HEAD of a regular file under a root directory: the root comes from the constructor or
 * from the init-param {@code root}; the file is the request's path in the context, servlet path plus
 * path info, resolved under the root, so map the servlet at {@code /} (the default servlet, where
 * there is no path info) or at {@code /*} (where the servlet path is empty and the path info is the
 * whole path). Paths with a {@code ..} segment, or that leave
 * the root (also through a symlink), are answered 404, as are missing files and directories. The
 * response has Content-Length and Content-Type {@code application/octet-stream}; the body is copied
 * with a plain blocking loop through a 64 KiB {@code byte[]}, {@link InputStream} to
 * {@link jakarta.servlet.ServletOutputStream}. There are no ranges, no conditional requests, no
 * caching, no async I/O: keep it that way, its naivety is the point.
 */
public class BlockingFileServlet extends HttpServlet {
    /** Size of the copy buffer: 64 KiB. */
    public static final int BUFFER_SIZE = 64 * 1024;

    private Path root;
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();

    /** For use with the init-param {@code root}. */
    public BlockingFileServlet() {
    }

    /** With a fixed root directory; the init-param {@code root}, if any, is then ignored. */
    public BlockingFileServlet(Path root) {
        this.root = realRoot(root.toString());
    }

    @Override
    public void init() throws ServletException {
        if (root != null) {
            return;
        }
        String param = getInitParameter("root");
        if (param == null || param.isBlank()) {
            throw new ServletException("BlockingFileServlet needs the init-param 'root'");
        }
        root = realRoot(param);
    }

    private static Path realRoot(String dir) {
        try {
            Path p = Path.of(dir).toRealPath();
            if (!Files.isDirectory(p)) {
                throw new IllegalArgumentException("root is not a directory: " + dir);
            }
            return p;
        } catch (IOException e) {
            throw new IllegalArgumentException("root does not exist: " + dir, e);
        }
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        inFlight.incrementAndGet();
        try {
            serve(request, response, true);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** GET requests being answered now: each holds a container thread, perhaps blocked in a write. */
    public int inFlight() {
        return inFlight.get();
    }

    @Override
    protected void doHead(HttpServletRequest request, HttpServletResponse response) throws IOException {
        serve(request, response, false);
    }

    private void serve(HttpServletRequest request, HttpServletResponse response, boolean body) throws IOException {
        String pathInfo = request.getPathInfo();
        Path file = resolve(request.getServletPath() + (pathInfo == null ? "" : pathInfo));
        if (file == null) {
            response.sendError(HttpServletResponse.SC_NOT_FOUND);
            return;
        }
        long length = Files.size(file);
        response.setContentType("application/octet-stream");
        response.setContentLengthLong(length);
        if (!body) {
            return;
        }
        byte[] buffer = new byte[BUFFER_SIZE];
        try (InputStream in = Files.newInputStream(file)) {
            OutputStream out = response.getOutputStream();
            int n;
            while ((n = in.read(buffer)) != -1) {
                out.write(buffer, 0, n); // blocks this container thread until the client takes the bytes
            }
        }
    }

    /** The regular file that {@code path} (in the context) names under the root, or null (answered 404). */
    private Path resolve(String path) {
        if (path.isEmpty() || path.indexOf('\0') >= 0) {
            return null;
        }
        for (String segment : path.split("/")) {
            if (segment.equals("..")) {
                return null;
            }
        }
        try {
            Path candidate = root.resolve(path.replaceFirst("^/+", "")).normalize();
            if (!candidate.startsWith(root) || !Files.isRegularFile(candidate)) {
                return null;
            }
            Path real = candidate.toRealPath();
            return real.startsWith(root) ? real : null;
        } catch (InvalidPathException | IOException e) {
            return null;
        }
    }
}
