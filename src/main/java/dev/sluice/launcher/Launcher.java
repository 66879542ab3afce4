package dev.sluice.launcher;

import dev.sluice.servlet.ConfigException;
import dev.sluice.servlet.Setting;
import dev.sluice.servlet.SluiceConfig;
import dev.sluice.servlet.SluiceServlet;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.apache.commons.io.file.PathUtils;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * One command to serve a directory: embedded Jetty 12.1 (ee11) with {@link SluiceServlet} at {@code /}.
 *
 * <pre>java -jar sluice-launcher.jar [--root DIR] [--port N] [--host ADDR] [--http2[=false]] [--name=value ...]</pre>
 *
 * <p>The connector speaks HTTP/1.1 and, unless {@code --http2=false}, clear-text HTTP/2 (h2c) on the same port,
 * as jetty-home's {@code http2c} module does: a client may start with the HTTP/2 preface (prior knowledge) or
 * ask for {@code Upgrade: h2c}. On by default because it costs an HTTP/1.1 client nothing (the connection
 * stays HTTP/1.1 unless the client asks) and matches the ready Jetty base, which enables {@code http2c} too.
 */
public final class Launcher {

    static final int DEFAULT_PORT = 8080;
    static final String DEFAULT_HOST = "127.0.0.1";
    static final boolean DEFAULT_HTTP2 = true;

    /** What the command line asked for; {@code http2}: serve h2c beside HTTP/1.1. */
    record Options(String host, int port, boolean http2, Map<String, String> settings, boolean help) {
    }

    private final Server server;

    private Launcher(Server server) {
        this.server = server;
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("sluice: " + e.getMessage());
            System.err.println("Try --help.");
            System.exit(2);
            return;
        }
        if (options.help()) {
            usage(System.out);
            return;
        }
        Map<String, String> settings = new LinkedHashMap<>(options.settings());
        if (!settings.containsKey(Setting.ROOT.key())) {
            Path demo = createDemoDirectory();
            settings.put(Setting.ROOT.key(), demo.toString());
            System.out.println("No --root given: serving a demo directory, " + demo);
        }
        try {
            SluiceConfig.from(settings);
        } catch (ConfigException e) {
            System.err.println("sluice: " + e.getMessage());
            System.exit(2);
            return;
        }
        Launcher launcher = start(options.host(), options.port(), options.http2(), settings);
        System.out.println("Sluice serving " + settings.get(Setting.ROOT.key()) + " at " + launcher.url()
                + (options.http2() ? " (HTTP/1.1 and h2c)" : " (HTTP/1.1)") + " (Ctrl-C stops)");
        launcher.server.join();
    }

    /** Starts a server with h2c; port 0 picks a free one. Stops by itself when the JVM exits. */
    public static Launcher start(String host, int port, Map<String, String> settings) throws Exception {
        return start(host, port, DEFAULT_HTTP2, settings);
    }

    /**
     * Starts a server; port 0 picks a free one; {@code http2} adds clear-text HTTP/2 (prior knowledge and
     * {@code Upgrade: h2c}) to the HTTP/1.1 connector. Stops by itself when the JVM exits.
     */
    public static Launcher start(String host, int port, boolean http2, Map<String, String> settings)
            throws Exception {
        Server server = new Server();
        HttpConfiguration config = new HttpConfiguration();
        ConnectionFactory[] protocols = http2
                ? new ConnectionFactory[] {new HttpConnectionFactory(config), new HTTP2CServerConnectionFactory(config)}
                : new ConnectionFactory[] {new HttpConnectionFactory(config)};
        ServerConnector connector = new ServerConnector(server, protocols);
        connector.setHost(host);
        connector.setPort(port);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        ServletHolder holder = new ServletHolder("sluice", SluiceServlet.class);
        holder.setInitParameters(settings);
        holder.setInitOrder(0);
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/");
        server.setHandler(context);
        server.setStopAtShutdown(true);
        server.start();
        return new Launcher(server);
    }

    public String url() {
        ServerConnector connector = (ServerConnector) server.getConnectors()[0];
        String host = connector.getHost();
        if (host == null || host.equals("0.0.0.0")) {
            host = "localhost";
        } else if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "http://" + host + ":" + connector.getLocalPort() + "/";
    }

    public void stop() throws Exception {
        server.stop();
    }

    static Options parse(String[] args) {
        String host = DEFAULT_HOST;
        int port = DEFAULT_PORT;
        boolean http2 = DEFAULT_HTTP2;
        Map<String, String> settings = new LinkedHashMap<>();
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                help = true;
                continue;
            }
            if (arg.equals("--http2")) {
                http2 = true; // a switch: the next argument is not its value
                continue;
            }
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'");
            }
            String name;
            String value;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                name = arg.substring(2, eq);
                value = arg.substring(eq + 1);
            } else {
                name = arg.substring(2);
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("option --" + name + " needs a value");
                }
                value = args[++i];
            }
            switch (name) {
                case "host" -> host = value;
                case "port" -> port = port(value);
                case "http2" -> http2 = http2(value);
                default -> {
                    if (Setting.byKey(name).isEmpty()) {
                        throw new IllegalArgumentException("unknown option --" + name);
                    }
                    settings.put(name, value);
                }
            }
        }
        return new Options(host, port, http2, settings, help);
    }

    private static int port(String value) {
        try {
            int port = Integer.parseInt(value);
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("option --port has invalid value '" + value
                + "': expected a port from 0 to 65535");
    }

    private static boolean http2(String value) {
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("option --http2 has invalid value '" + value
                    + "': expected true or false");
        };
    }

    static void usage(PrintStream out) {
        out.println("Usage: java -jar sluice-launcher.jar [--root DIR] [--port N] [--host ADDR] [--http2[=false]]"
                + " [--name=value ...]");
        out.println();
        out.printf("  %-28s%s%n", "--host ADDR", "Address to listen on (default " + DEFAULT_HOST
                + "; 0.0.0.0 for every interface).");
        out.printf("  %-28s%s%n", "--port N", "Port to listen on (default " + DEFAULT_PORT + "; 0 picks a free one).");
        out.printf("  %-28s%s%n", "--http2=" + DEFAULT_HTTP2, "Also serve clear-text HTTP/2 (h2c, by prior "
                + "knowledge or Upgrade) on the same port; --http2=false: HTTP/1.1 only.");
        for (Setting setting : Setting.values()) {
            String option = "--" + setting.key() + "=" + (setting.defaultValue() == null ? "DIR"
                    : setting.defaultValue().contains(" ") ? "'" + setting.defaultValue() + "'"
                    : setting.defaultValue());
            if (option.length() > 27) {
                out.printf("  %s%n  %-28s%s%n", option, "", setting.description());
            } else {
                out.printf("  %-28s%s%n", option, setting.description());
            }
        }
    }

    /** A small directory to serve when no root is given, removed when the JVM exits. */
    static Path createDemoDirectory() throws IOException {
        Path dir = Files.createTempDirectory("sluice-demo-");
        Files.writeString(dir.resolve("index.html"), """
                <!doctype html>
                <html><head><meta charset="utf-8"><title>Sluice demo</title></head>
                <body><h1>Sluice is running</h1>
                <p>Try <a href="hello.txt">hello.txt</a> or <a href="sample-16MiB.bin">sample-16MiB.bin</a>.
                Start it with <code>--root DIR</code> to serve your own files.</p></body></html>
                """, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("hello.txt"), "Hello from Sluice.\n", StandardCharsets.UTF_8);
        byte[] block = new byte[1 << 20];
        Random random = new Random(1);
        try (var out = Files.newOutputStream(dir.resolve("sample-16MiB.bin"))) {
            for (int i = 0; i < 16; i++) {
                random.nextBytes(block);
                out.write(block);
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                PathUtils.deleteDirectory(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "sluice-demo-cleanup"));
        return dir;
    }
}
