package dev.sluice.peers;

import java.nio.file.Files;
import java.nio.file.Path;

import org.eclipse.jetty.ee11.servlet.DefaultServlet;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Starts an embedded Jetty 12.1 (ee11) that serves a directory, as a peer for the benchmark
 * ({@code bench/run}) to compare Sluice against: a <strong>test peer, not production code</strong>.
 *
 * <pre>
 * java -cp ... dev.sluice.peers.PeerServer --kind=jetty-default|blocking --root=DIR [--port=N] [--host=H]
 * </pre>
 *
 * <ul>
 *   <li>{@code --kind=jetty-default}: Jetty's own {@link DefaultServlet}, mapped at {@code /}, with its
 *       default settings (only the context's base resource and {@code dirAllowed=false} are set): the
 *       defaults a user gets.</li>
 *   <li>{@code --kind=blocking}: {@link BlockingFileServlet}, mapped at {@code /*}.</li>
 *   <li>{@code --kind=tomcat-default}: embedded Tomcat 11 with its own {@code DefaultServlet} at {@code /}, default
 *       settings (sendfile for files of 48 KiB and more, {@code useSendfile} on the NIO connector).</li>
 *   <li>{@code --kind=sluice-jetty}: {@code SluiceServlet} at {@code /}, default settings, on this same Jetty: the
 *       reference for the two kinds below, which differ from it in one thing each.</li>
 *   <li>{@code --kind=sluice-api}: an application servlet at {@code /*} that hands every request's file to
 *       {@code SluiceSender.from(context).send(...)}, the Java API of protected downloads; {@code SluiceServlet}
 *       only publishes the sender (mapped at {@code /.sluice/*}).</li>
 *   <li>{@code --kind=sluice-ops}: as {@code sluice-jetty}, with {@code accessLog=true}, {@code metricsPath} and
 *       {@code statusPath} on (what metrics and the access log cost on the hot path).</li>
 *   <li>{@code --kind=sluice-tomcat}: Sluice on embedded Tomcat 11, default settings (sendfile on);
 *       {@code --kind=sluice-tomcat-nosendfile}: the same with Sluice's {@code sendfile=false}.</li>
 * </ul>
 *
 * <p>The Tomcat kinds have Tomcat's default thread pool (200 threads).
 *
 * <p>Options may also be given as {@code --name value}. {@code --port=0} (the default) picks a free
 * port. The connector listens on {@code --host} (default 127.0.0.1), and the server has Jetty's default
 * {@code QueuedThreadPool} (200 threads). When started it prints one line
 * {@code READY http://127.0.0.1:PORT/} on stdout; it stops on SIGTERM or Ctrl-C.
 */
public final class PeerServer {
    private PeerServer() {
    }

    public static void main(String[] args) throws Exception {
        String kind = null;
        String root = null;
        String host = "127.0.0.1";
        int port = 0;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            } else if (arg.startsWith("--") && i + 1 < args.length) {
                value = args[++i];
            }
            if (value == null) {
                usage("missing value for " + arg);
            }
            switch (name) {
                case "--kind" -> kind = value;
                case "--root" -> root = value;
                case "--host" -> host = value;
                case "--port" -> port = Integer.parseInt(value);
                default -> usage("unknown option " + arg);
            }
        }
        if (kind == null || root == null) {
            usage("--kind and --root are required");
        }
        Path rootDir = Path.of(root).toRealPath();
        if (!Files.isDirectory(rootDir)) {
            usage("not a directory: " + root);
        }

        if (kind.startsWith("tomcat-") || kind.startsWith("sluice-tomcat")) {
            startTomcat(kind, rootDir, host, port);
            return;
        }
        Server server = new Server(); // default QueuedThreadPool: 200 threads
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);

        ServletContextHandler context = new ServletContextHandler("/");
        switch (kind) {
            case "jetty-default" -> {
                context.setBaseResourceAsPath(rootDir);
                ServletHolder holder = new ServletHolder("default", DefaultServlet.class);
                holder.setInitParameter("dirAllowed", "false");
                context.addServlet(holder, "/");
            }
            case "blocking" -> {
                ServletHolder holder = new ServletHolder("blocking", BlockingFileServlet.class);
                holder.setInitParameter("root", rootDir.toString());
                context.addServlet(holder, "/*");
            }
            case "sluice-jetty", "sluice-ops" -> {
                ServletHolder holder = sluice(rootDir);
                if (kind.equals("sluice-ops")) {
                    holder.setInitParameter("accessLog", "true");
                    holder.setInitParameter("metricsPath", "/.sluice/metrics");
                    holder.setInitParameter("statusPath", "/.sluice/status");
                }
                context.addServlet(holder, "/");
            }
            case "sluice-api" -> {
                context.addServlet(sluice(rootDir), "/.sluice/*");
                ServletHolder app = new ServletHolder("app", new ApiApplication(rootDir));
                app.setAsyncSupported(true);
                context.addServlet(app, "/*");
            }
            default -> usage("unknown --kind " + kind);
        }
        server.setHandler(context);
        server.setStopAtShutdown(true);
        server.start();

        String shownHost = host.contains(":") ? "[" + host + "]" : host;
        System.out.println("READY http://" + shownHost + ":" + connector.getLocalPort() + "/");
        System.out.flush();
        server.join();
    }

    private static ServletHolder sluice(Path rootDir) {
        ServletHolder holder = new ServletHolder("sluice", dev.sluice.servlet.SluiceServlet.class);
        holder.setInitParameter("root", rootDir.toString());
        holder.setAsyncSupported(true);
        holder.setInitOrder(0);
        return holder;
    }

    /** An application that lets anyone have any file under the root, through Sluice's Java API. */
    private static final class ApiApplication extends jakarta.servlet.http.HttpServlet {
        private final Path root;

        ApiApplication(Path root) {
            this.root = root;
        }

        @Override
        protected void doGet(jakarta.servlet.http.HttpServletRequest request,
                jakarta.servlet.http.HttpServletResponse response) throws java.io.IOException {
            Path file = root.resolve(request.getPathInfo().substring(1)).normalize();
            if (!file.startsWith(root)) {
                response.sendError(404);
                return;
            }
            dev.sluice.servlet.SluiceSender.from(getServletContext()).send(request, response, file);
        }
    }

    private static void startTomcat(String kind, Path rootDir, String host, int port) throws Exception {
        Path base = Files.createTempDirectory("sluice-peer-tomcat-");
        org.apache.catalina.startup.Tomcat tomcat = new org.apache.catalina.startup.Tomcat();
        tomcat.setBaseDir(base.toString());
        org.apache.catalina.connector.Connector connector = new org.apache.catalina.connector.Connector();
        connector.setPort(port);
        connector.setProperty("address", host);
        tomcat.setConnector(connector);
        tomcat.getHost().setAutoDeploy(false);
        org.apache.catalina.Context context = tomcat.addContext("", rootDir.toString());
        org.apache.catalina.startup.Tomcat.addDefaultMimeTypeMappings(context);
        org.apache.catalina.Wrapper wrapper;
        switch (kind) {
            case "tomcat-default" -> {
                wrapper = org.apache.catalina.startup.Tomcat.addServlet(context, "default",
                        new org.apache.catalina.servlets.DefaultServlet());
                wrapper.addInitParameter("listings", "false");
            }
            case "sluice-tomcat", "sluice-tomcat-nosendfile" -> {
                wrapper = org.apache.catalina.startup.Tomcat.addServlet(context, "sluice",
                        new dev.sluice.servlet.SluiceServlet());
                wrapper.setAsyncSupported(true);
                wrapper.addInitParameter("root", rootDir.toString());
                wrapper.addInitParameter("sendfile", Boolean.toString(kind.equals("sluice-tomcat")));
            }
            default -> {
                usage("unknown --kind " + kind);
                return;
            }
        }
        wrapper.setLoadOnStartup(1);
        context.addServletMappingDecoded("/", wrapper.getName());
        tomcat.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                tomcat.stop();
                tomcat.destroy();
                org.apache.commons.io.file.PathUtils.deleteDirectory(base);
            } catch (Exception e) {
                System.err.println("PeerServer: Tomcat did not stop cleanly: " + e);
            }
        }));
        String shownHost = host.contains(":") ? "[" + host + "]" : host;
        System.out.println("READY http://" + shownHost + ":" + connector.getLocalPort() + "/");
        System.out.flush();
        tomcat.getServer().await();
    }

    private static void usage(String problem) {
        System.err.println("PeerServer: " + problem);
        System.err.println("usage: PeerServer --kind=jetty-default|blocking|sluice-jetty|sluice-api|sluice-ops|tomcat-default|sluice-tomcat|sluice-tomcat-nosendfile --root=DIR [--port=N] [--host=127.0.0.1]");
        System.exit(2);
    }
}
