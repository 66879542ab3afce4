package dev.sluice.launcher;

import dev.sluice.servlet.ClosestName;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeoutException;
import org.apache.commons.io.file.PathUtils;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * One command to serve a directory: embedded Jetty 12.1 (ee11) with {@link SluiceServlet} at {@code /}.
 *
 * <pre>java -jar sluice-launcher.jar [--root DIR] [--port N] [--host ADDR] [--http2[=false]] [--stopTimeout=30s]
 *     [--requestHeaderTimeout=20s] [--sendfile[=remote|true|false]] [--name=value ...]</pre>
 *
 * <p>With {@code --sign=PATH} it prints a signed link instead of serving (see {@link SignCommand}).
 *
 * <p>The connector is a {@link SendfileConnector} unless {@code --sendfile=false}: on HTTP/1.1 connections the
 * engine's mapped chunks go from the file with {@code sendfile} instead of a copy (docs/sendfile-jetty.md), as
 * Tomcat's and nginx's do, by default ({@link Sendfile#REMOTE}) to clients on other machines only; h2c copies.
 *
 * <p>The connector speaks HTTP/1.1 and, unless {@code --http2=false}, clear-text HTTP/2 (h2c) on the same port,
 * as jetty-home's {@code http2c} module does: a client may start with the HTTP/2 preface (prior knowledge) or
 * ask for {@code Upgrade: h2c}. On by default because it costs an HTTP/1.1 client nothing (the connection
 * stays HTTP/1.1 unless the client asks) and matches the ready Jetty base, which enables {@code http2c} too.
 *
 * <p>Stopping (SIGTERM, Ctrl-C, {@link #stop()}) is graceful, with Jetty's own mechanism: a {@link GracefulHandler}
 * in front of the context and {@link Server#setStopTimeout(long)}. The connector stops accepting at once; open
 * connections take no new request (an HTTP/1.1 connection is closed after the response in progress, an HTTP/2
 * connection gets GOAWAY, and a request that still reaches the handler is answered 503); the requests in progress
 * get up to {@code --stopTimeout} to finish; then the connections are closed and the servlet's engine aborts what
 * is left. The handler counts a request until Jetty completes its core callback, which for a servlet request in
 * {@code startAsync} happens only after {@code AsyncContext.complete()} and the last byte written: a download
 * written by Sluice's {@code WriteListener} is waited for like any other request. Jetty also lowers the idle
 * timeout of every open connection to one second when the stop begins (so that idle keep-alive connections close
 * and do not hold the stop for the whole grace period): a download whose client takes no byte for a second is
 * cut then, one that keeps reading runs on until the grace period ends.
 *
 * <p><b>Timeouts: one story.</b> A connection is under one of two clocks:
 * <ul>
 * <li>No request running (a new connection, an idle keep-alive connection, a request head still arriving):
 * {@code --requestHeaderTimeout}, default 20 s (Tomcat's {@code connectionTimeout} and Apache's
 * {@code RequestReadTimeout header=20} are 20 s too). {@link HeaderDeadline} closes an HTTP/1.1 connection whose
 * next request head is not complete 20 s after the accept, or after the server became ready for that request (the
 * end of the previous response), however slowly it trickles bytes in: nginx's {@code client_header_timeout}, and
 * for an idle keep-alive connection its {@code keepalive_timeout}. An HTTP/2 connection that has no stream open
 * and opens none for 20 s is closed with GOAWAY (checked every 20 s: between 20 and 40 s after its last stream).
 * </li>
 * <li>A request running (from its complete head to its last byte): the servlet's {@code stallTimeout}, default
 * 60 s, ends a download whose client takes no byte for that long, with the outcome "aborted" (cause
 * {@code StalledException}) and every file and buffer released; a download that keeps taking bytes is never cut.
 * </li>
 * </ul>
 * Jetty's own idle timeout (the connector's, which Jetty also gives each HTTP/2 stream) is set to
 * {@code stallTimeout} + {@link #STALL_MARGIN}: only a backstop, which the stall check (it runs at least once a
 * second) always beats, and which the request-header deadline makes moot outside requests. (Jetty's default, 30 s,
 * used to cut a client that read nothing before the 60 s {@code stallTimeout} ever applied.) Jetty's
 * per-request idle timeout ({@link HttpConfiguration#setIdleTimeout}) is left unset on purpose: restoring a
 * shorter connection timeout when a stalled download ends made Jetty log a WARN line per stalled client.
 *
 * <p><b>Threads.</b> Sluice never blocks a container thread (files are read by its own {@code readThreads}, writes
 * wait in a {@code WriteListener}), so the container pool only parses heads, opens files and runs write callbacks:
 * short work. {@link #threadPool(int)} bounds it to what that needs instead of Jetty's 200: one acceptor, one
 * selector per two cores, as many reserved threads, and {@code max(8, 4 x cores)} workers (11 threads on 2 cores,
 * 41 on 8). With Jetty's default pool, 2,000 slowloris connections and 10,000 aborted downloads took the
 * launcher's JVM from 40 to 232 threads; with this one it stays within 3 of its idle count. The listen backlog is
 * {@link #ACCEPT_QUEUE} instead of the JDK's 50, so that a burst of connections is queued by the kernel rather than
 * dropped into one-second SYN retries.
 *
 * <p><b>Virtual threads (Java 21+).</b> The launcher targets Java 17 and uses platform threads. An embedder on
 * Java 21+ can have Jetty run request handling on virtual threads while selectors and the acceptor stay platform
 * threads: {@code QueuedThreadPool pool = Launcher.threadPool(cores);
 * pool.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());} before {@code new Server(pool)}; or
 * make every thread virtual with {@code new Server(new VirtualThreadPool(max))}
 * ({@code org.eclipse.jetty.util.thread.VirtualThreadPool}, {@code max} bounding the tasks run at once). For
 * Sluice alone that buys little, since nothing it runs on those threads blocks; it helps servlets beside it that
 * do block.
 *
 * <p><b>Malformed requests.</b> Jetty refuses them itself (400 and the like); {@link MalformedRequests} logs one
 * line for the first and then at most one line a minute summing them up, instead of Jetty's WARN line per bad
 * {@code Host} header with the client's bytes in it.
 */
public final class Launcher {

    static final int DEFAULT_PORT = 8080;
    static final String DEFAULT_HOST = "127.0.0.1";
    static final boolean DEFAULT_HTTP2 = true;
    static final Sendfile DEFAULT_SENDFILE = Sendfile.REMOTE;
    static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(30);
    static final Duration DEFAULT_REQUEST_HEADER_TIMEOUT = Duration.ofSeconds(20);
    /** How much longer than {@code stallTimeout} Jetty's idle timeout is (see the class comment). */
    static final Duration STALL_MARGIN = Duration.ofSeconds(5);
    static final int ACCEPTORS = 1;
    /** The listen backlog (nginx's is 511; Linux caps it at net.core.somaxconn, 4096 by default since 5.4). */
    static final int ACCEPT_QUEUE = 1024;

    /**
     * What the command line asked for; {@code http2}: serve h2c beside HTTP/1.1; {@code stopTimeout}: how long a
     * stop lets the requests in progress finish (zero: cut them at once); {@code requestHeaderTimeout}: how long a
     * connection may go without a request running (see the class comment); {@code sendfile}: the
     * {@link SendfileConnector}.
     */
    record Options(String host, int port, boolean http2, Duration stopTimeout, Duration requestHeaderTimeout,
            Map<String, String> settings, boolean help, Sendfile sendfile) {
    }

    /** Which HTTP/1.1 connections send file bodies with {@code sendfile} ({@code --sendfile}). */
    public enum Sendfile {
        /** {@code false}: none; every body is copied. */
        OFF("false"),
        /**
         * {@code remote}, the default: those of clients on other machines; a client on this machine (loopback, or
         * the host's own address) gets copies, which cost the machine less in total (see {@link SendfileConnector}).
         */
        REMOTE("remote"),
        /** {@code true}, or {@code --sendfile} alone: every HTTP/1.1 connection. */
        ALWAYS("true");

        private final String word;

        Sendfile(String word) {
            this.word = word;
        }

        /** The option's value on the command line. */
        public String word() {
            return word;
        }

        static Sendfile of(String word) {
            for (Sendfile mode : values()) {
                if (mode.word.equals(word)) {
                    return mode;
                }
            }
            throw new IllegalArgumentException("option --sendfile has invalid value '" + word
                    + "': expected remote, true or false");
        }
    }

    private final Server server;
    private final HeaderDeadline headerDeadline;

    private Launcher(Server server, HeaderDeadline headerDeadline) {
        this.server = server;
        this.headerDeadline = headerDeadline;
    }

    /** How long past {@code --stopTimeout} the log handlers wait for the stop to end (see {@link StopLogManager}). */
    private static final Duration STOP_LOG_MARGIN = Duration.ofSeconds(10);

    /** The JDK's property for the format of its {@code SimpleFormatter}, which the console handler uses. */
    private static final String JUL_FORMAT = "java.util.logging.SimpleFormatter.format";

    public static void main(String[] args) throws Exception {
        if (SignCommand.requested(args)) {
            System.exit(SignCommand.run(args, System.currentTimeMillis() / 1000, System.out, System.err));
            return;
        }
        if (System.getProperty("java.util.logging.manager") == null) { // before anything logs
            System.setProperty("java.util.logging.manager", "dev.sluice.launcher.StopLogManager");
        }
        if (System.getProperty(JUL_FORMAT) == null) {
            // Sluice's java.util.logging lines (the access log, warnings) on one line each, as Jetty's are
            // (slf4j-simple): the JDK's default puts the date and logger on a line of their own.
            System.setProperty(JUL_FORMAT, "%4$s %3$s - %5$s%6$s%n");
        }
        MalformedRequests.quietJettyLoggers(); // before any Jetty class makes its logger
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
        StopLogManager.keepHandlersWhileStopping(options.stopTimeout().plus(STOP_LOG_MARGIN));
        java.util.logging.Logger.getLogger("").getHandlers(); // creates them now, see StopLogManager
        Launcher launcher;
        try {
            launcher = start(options.host(), options.port(), options.http2(), options.stopTimeout(),
                    options.requestHeaderTimeout(), options.sendfile(), settings);
        } catch (Exception e) { // the port is taken, or the host unknown or not this machine's
            // No server will stop: the JVM's exit must not wait stopTimeout for its log lines (it did, 37 s).
            StopLogManager.serverStopped();
            System.err.println("sluice: could not start on --host " + options.host() + " --port " + options.port()
                    + ": " + describe(e));
            System.exit(2);
            return;
        }
        launcher.server.addEventListener(new LifeCycle.Listener() {
            @Override
            public void lifeCycleStopped(LifeCycle event) {
                stopped();
            }

            /**
             * A stop that had to cut downloads ends in failure, not in "stopped": Jetty's graceful stop throws its
             * timeout. The log lines may go then too (waiting for a "stopped" that never came held the JVM's
             * exit for the whole wait: stopTimeout + 10 s).
             */
            @Override
            public void lifeCycleFailure(LifeCycle event, Throwable cause) {
                stopped();
            }

            private void stopped() {
                System.out.println("Sluice stopped");
                StopLogManager.serverStopped();
            }
        });
        if (launcher.stopIfTooLate(StopLogManager::isShuttingDown)) {
            return;
        }
        System.out.println("Sluice serving " + settings.get(Setting.ROOT.key()) + " at " + launcher.url()
                + (options.http2() ? " (HTTP/1.1 and h2c)" : " (HTTP/1.1)") + " (Ctrl-C stops)");
        launcher.server.join();
    }

    /**
     * Stops this server at once if the JVM began to shut down while it started, and says whether it did. Why: a
     * SIGTERM before Jetty registers its stop at shutdown makes that registration fail ("shutdown already
     * commenced"), and nothing would stop the server. It went on serving during the JVM's exit, which waited for
     * its stop's log lines until {@code --stopTimeout} + 10 s ran out (see {@link StopLogManager}). A SIGTERM after
     * the registration is Jetty's to handle, as ever.
     */
    boolean stopIfTooLate(java.util.function.BooleanSupplier shuttingDown) throws Exception {
        if (!shuttingDown.getAsBoolean()) {
            return false;
        }
        stop();
        return true;
    }

    /**
     * Starts a server with h2c and the default grace period; port 0 picks a free one. Stops by itself when the JVM
     * exits.
     */
    public static Launcher start(String host, int port, Map<String, String> settings) throws Exception {
        return start(host, port, DEFAULT_HTTP2, settings);
    }

    /**
     * Starts a server with the default grace period; port 0 picks a free one; {@code http2} adds clear-text
     * HTTP/2 (prior knowledge and {@code Upgrade: h2c}) to the HTTP/1.1 connector. Stops by itself when the JVM
     * exits.
     */
    public static Launcher start(String host, int port, boolean http2, Map<String, String> settings)
            throws Exception {
        return start(host, port, http2, DEFAULT_STOP_TIMEOUT, settings);
    }

    /**
     * Starts a server; port 0 picks a free one; {@code http2} adds clear-text HTTP/2 to the HTTP/1.1 connector;
     * a stop, by {@link #stop()} or when the JVM exits (SIGTERM, Ctrl-C), lets the requests in progress finish for
     * up to {@code stopTimeout} (zero: cuts them at once).
     */
    public static Launcher start(String host, int port, boolean http2, Duration stopTimeout,
            Map<String, String> settings) throws Exception {
        return start(host, port, http2, stopTimeout, DEFAULT_REQUEST_HEADER_TIMEOUT, settings);
    }

    /**
     * As {@link #start(String, int, boolean, Duration, Map)}; {@code requestHeaderTimeout}: how long a connection
     * may go without a request running, idle or sending a request head (see the class comment).
     */
    public static Launcher start(String host, int port, boolean http2, Duration stopTimeout,
            Duration requestHeaderTimeout, Map<String, String> settings) throws Exception {
        return start(host, port, http2, stopTimeout, requestHeaderTimeout, DEFAULT_SENDFILE, settings);
    }

    /**
     * As {@link #start(String, int, boolean, Duration, Duration, Map)}; {@code sendfile}: which HTTP/1.1
     * connections send the engine's mapped chunks from the file with {@code transferTo} (see
     * {@link SendfileConnector}); {@link Sendfile#REMOTE} by default; {@link Sendfile#OFF}: Jetty's own connector,
     * which copies.
     */
    public static Launcher start(String host, int port, boolean http2, Duration stopTimeout,
            Duration requestHeaderTimeout, Sendfile sendfile, Map<String, String> settings) throws Exception {
        Duration stallTimeout = SluiceConfig.from(settings).engine().stallTimeout();
        int cores = Runtime.getRuntime().availableProcessors();
        Server server = new Server(threadPool(cores));
        server.setErrorHandler(new MalformedRequests());
        HttpConfiguration config = new HttpConfiguration();
        // No "Server: Jetty(12.x)" header and no version under error pages: a server facing the internet does not
        // tell which version to attack (nginx's server_tokens off; the README's Tomcat valve does the same there).
        config.setSendServerVersion(false);
        // Jetty refuses "%25" in a path as ambiguous (a percent decoded twice would be another escape), so a file
        // with "%" in its name, which the listing links as "%25", answered 400. Sluice decodes the raw path once
        // itself and never again, so "%25" is only ever a percent sign: allowed here, every other ambiguity not.
        config.setUriCompliance(UriCompliance.DEFAULT.with("sluice", UriCompliance.Violation.AMBIGUOUS_PATH_ENCODING));
        HeaderDeadline headerDeadline = new HeaderDeadline(requestHeaderTimeout);
        HttpConnectionFactory http1 = headerDeadline.http1(config);
        ConnectionFactory[] protocols = http2
                ? new ConnectionFactory[] {http1, new HTTP2CServerConnectionFactory(config)}
                : new ConnectionFactory[] {http1};
        ServerConnector connector;
        if (sendfile != Sendfile.OFF) {
            connector = SendfileConnector.create(server, ACCEPTORS, selectors(cores), sendfile == Sendfile.ALWAYS,
                    protocols);
        } else {
            connector = new LauncherConnector(server, ACCEPTORS, selectors(cores), protocols);
        }
        connector.setHost(host);
        connector.setPort(port);
        connector.setIdleTimeout(idleTimeout(stallTimeout).toMillis());
        connector.setAcceptQueueSize(ACCEPT_QUEUE);
        connector.addEventListener(headerDeadline.http2(connector.getScheduler()));
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.setAttribute(SluiceServlet.OWN_TIMEOUTS_ATTRIBUTE, Boolean.TRUE);
        ServletHolder holder = new ServletHolder("sluice", SluiceServlet.class);
        holder.setInitParameters(settings);
        holder.setInitOrder(0);
        holder.setAsyncSupported(true);
        context.addServlet(holder, "/");
        context.getServletHandler().setDecodeAmbiguousURIs(true); // the "%25" allowed above; Sluice reads the raw path
        server.setHandler(new GracefulHandler(context));
        server.setDefaultHandler(new ServerWideOptions());
        server.setStopTimeout(stopTimeout.toMillis());
        server.setStopAtShutdown(true);
        try {
            server.start();
        } catch (Exception e) {
            // What did start (the servlet's engine and read threads, Jetty's pool) must not keep the JVM alive and
            // serving nothing: a supervisor would take such a process for a running server.
            server.setStopTimeout(0);
            try {
                server.stop();
            } catch (Exception stopping) {
                e.addSuppressed(stopping);
            }
            throw e;
        }
        return new Launcher(server, headerDeadline);
    }

    /** One line for a failed start: the exception's message, and its root cause's where that says more. */
    static String describe(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String top = failure.getMessage() != null ? failure.getMessage() : failure.getClass().getSimpleName();
        if (root == failure) {
            return top;
        }
        String cause = root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
        return top.contains(cause) ? top : top + ": " + cause;
    }

    /** Jetty's idle timeout: above {@code stallTimeout}, so that the stall check ends a stalled download first. */
    static Duration idleTimeout(Duration stallTimeout) {
        return stallTimeout.plus(STALL_MARGIN);
    }

    /** Selector threads: one per two cores, as Jetty's default for a large pool. */
    static int selectors(int cores) {
        return Math.max(1, cores / 2);
    }

    /**
     * The container's thread pool, bounded to what a non-blocking servlet needs (see the class comment): the
     * acceptor and selectors, one reserved thread per selector, and {@code max(8, 4 x cores)} workers for the short
     * tasks (heads, file opens, write callbacks); four per core leave room for a file open that waits on a cold
     * disk. At least 8 stay started. Jetty leases the acceptor, the selectors and the reserved threads from the
     * pool and would refuse to start if they took it all; the workers are what is left.
     */
    public static QueuedThreadPool threadPool(int cores) {
        int selectors = selectors(cores);
        int reserved = selectors;
        int workers = Math.max(8, 4 * cores);
        int max = ACCEPTORS + selectors + reserved + workers;
        QueuedThreadPool pool = new QueuedThreadPool(max, Math.min(8, max));
        pool.setReservedThreads(reserved);
        pool.setName("sluice-jetty");
        return pool;
    }

    /**
     * How many connections the request-header deadline has closed: HTTP/1.1 connections without a complete head in
     * time, HTTP/2 connections without a stream for a period.
     */
    public long headerDeadlineCloses() {
        return headerDeadline.closedConnections();
    }

    Server server() {
        return server;
    }

    /** Body bytes sent with {@code transferTo} by the sendfile connector (0 with {@code --sendfile=false}). */
    public long sentFromFiles() {
        return server.getConnectors()[0] instanceof SendfileConnector connector ? connector.sentFromFiles() : 0;
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

    /**
     * Stops as SIGTERM does: no new connection, the requests in progress get the grace period to finish, then
     * whatever is left is cut.
     *
     * @return false if the grace period ran out and the requests still in progress were cut; true if they had all
     *     ended by then (finished, or cut by Jetty's shutdown idle timeout: see the class comment)
     */
    public boolean stop() throws Exception {
        try {
            server.stop();
            return true;
        } catch (TimeoutException e) {
            // Jetty stopped everything anyway and reports that the grace period ran out this way.
            return false;
        }
    }

    static Options parse(String[] args) {
        String host = DEFAULT_HOST;
        int port = DEFAULT_PORT;
        boolean http2 = DEFAULT_HTTP2;
        Sendfile sendfile = DEFAULT_SENDFILE;
        Duration stopTimeout = DEFAULT_STOP_TIMEOUT;
        Duration requestHeaderTimeout = DEFAULT_REQUEST_HEADER_TIMEOUT;
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
            if (arg.equals("--sendfile")) {
                sendfile = Sendfile.ALWAYS;
                continue;
            }
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'");
            }
            int eq = arg.indexOf('=');
            String name = eq > 0 ? arg.substring(2, eq) : arg.substring(2);
            if (!OWN_OPTIONS.contains(name) && Setting.byKey(name).isEmpty()) {
                // Named before a missing value is: "--colour" alone is a wrong name, not a name without a value.
                throw new IllegalArgumentException("unknown option --" + name + ClosestName.among(
                        options(), name).map(option -> "; did you mean --" + option + "?").orElse(""));
            }
            String value;
            if (eq > 0) {
                value = arg.substring(eq + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("option --" + name + " needs a value");
            }
            switch (name) {
                case "host" -> host = value;
                case "port" -> port = port(value);
                case "http2" -> http2 = flag("http2", value);
                case "sendfile" -> sendfile = Sendfile.of(value);
                case "stopTimeout" -> stopTimeout = stopTimeout(value);
                case "requestHeaderTimeout" -> requestHeaderTimeout = requestHeaderTimeout(value);
                default -> settings.put(name, value);
            }
        }
        return new Options(host, port, http2, stopTimeout, requestHeaderTimeout, settings, help, sendfile);
    }

    /** The options that are not settings, with a value: the launcher's own. */
    private static final List<String> OWN_OPTIONS = List.of("host", "port", "http2", "sendfile", "stopTimeout",
            "requestHeaderTimeout");

    /** Every option's name, for a misspelt one: the launcher's own, link signing's, and the settings'. */
    private static List<String> options() {
        List<String> names = new ArrayList<>(List.of("help"));
        names.addAll(OWN_OPTIONS);
        names.addAll(SignCommand.OPTIONS);
        Setting.values().forEach(setting -> names.add(setting.key()));
        return names;
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

    private static boolean flag(String name, String value) {
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("option --" + name + " has invalid value '" + value
                    + "': expected true or false");
        };
    }

    /** The same forms as the servlet's duration settings ({@code stallTimeout}), where 0 is allowed too. */
    private static Duration stopTimeout(String value) {
        return SluiceConfig.parseDuration(value).orElseThrow(() -> new IllegalArgumentException(
                "option --stopTimeout has invalid value '" + value
                + "': expected a duration such as 0, 500ms, 30s, 5m or 1h"));
    }

    /** A positive duration in the same forms, at most a day (as the servlet's durations). */
    private static Duration requestHeaderTimeout(String value) {
        return SluiceConfig.parseDuration(value).filter(d -> !d.isZero() && d.compareTo(Duration.ofDays(1)) <= 0)
                .orElseThrow(() -> new IllegalArgumentException("option --requestHeaderTimeout has invalid value '"
                        + value + "': expected a positive duration up to 24h such as 500ms, 20s or 1m"));
    }

    /**
     * The settings {@code --help} lists after the launcher's own options: all but {@code sendfile}, which the
     * launcher takes as its own {@code --sendfile} (listed above, with the launcher's default): the setting's text
     * and default are Tomcat's, and listing both made {@code --help} show two defaults for one option.
     */
    static List<Setting<?>> settingsInHelp() {
        return Setting.values().stream().filter(setting -> setting != Setting.SENDFILE).toList();
    }

    static void usage(PrintStream out) {
        out.println("Usage: java -jar sluice-launcher.jar [--root DIR] [--port N] [--host ADDR] [--http2[=false]]"
                + " [--stopTimeout=30s] [--requestHeaderTimeout=20s] [--name=value ...]");
        out.println();
        out.printf("  %-28s%s%n", "--host ADDR", "Address to listen on (default " + DEFAULT_HOST
                + "; 0.0.0.0 for every interface).");
        out.printf("  %-28s%s%n", "--port N", "Port to listen on (default " + DEFAULT_PORT + "; 0 picks a free one).");
        out.printf("  %-28s%s%n", "--http2=" + DEFAULT_HTTP2, "Also serve clear-text HTTP/2 (h2c, by prior "
                + "knowledge or Upgrade) on the same port; --http2=false: HTTP/1.1 only.");
        out.printf("  %-28s%s%n", "--sendfile=" + DEFAULT_SENDFILE.word(), "Send file bodies on HTTP/1.1 "
                + "connections with sendfile (FileChannel.transferTo) instead of copying them (h2c copies): remote: "
                + "to clients on other machines, copying to a client on this one (loopback or the host's own "
                + "address, such as a local reverse proxy: copying costs the machine less CPU there); true: to "
                + "every client; false: always copy. See docs/sendfile-jetty.md. The launcher's form of the "
                + "sendfile setting, which in a WAR on Tomcat hands bodies to Tomcat's sendfile.");
        out.printf("  %-28s%s%n", "--stopTimeout=" + DEFAULT_STOP_TIMEOUT.toSeconds() + "s", "On SIGTERM or Ctrl-C, "
                + "stop accepting at once and let running downloads finish for up to this long, then cut them "
                + "(0: cut at once).");
        out.printf("  %-28s%s%n", "--requestHeaderTimeout=" + DEFAULT_REQUEST_HEADER_TIMEOUT.toSeconds() + "s",
                "Close a connection that has no request running for this long: idle, or still sending its "
                + "request head, however slowly (a running download has stallTimeout instead).");
        out.printf("  %-28s%s%n", "--sign=PATH --ttl=1h", "Print a link to PATH signed with --signingKey or "
                + "--signingKeyFile, valid for --ttl or until --expires=UNIX_SECONDS, and exit; --signPrefix=DIR: "
                + "the link opens every file under DIR; --signIp=ADDR: for that client address only.");
        for (Setting<?> setting : settingsInHelp()) {
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
