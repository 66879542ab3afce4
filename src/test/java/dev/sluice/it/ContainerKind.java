package dev.sluice.it;

import jakarta.servlet.Servlet;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.catalina.Context;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The containers every integration test runs on, embedded, with the servlet mounted at {@code /}.
 *
 * <p>{@link #TOMCAT} has sendfile switched off on its connector, so that every test of the transfer engine runs
 * the engine on Tomcat too; {@link #startTomcatWithSendfile} starts Tomcat as it comes, sendfile on, for the
 * tests that check the bodies Tomcat sends itself.
 */
public enum ContainerKind {
    JETTY_EE11, JETTY_EE10, TOMCAT;

    /** A started container; closing it stops the container and destroys the servlet. */
    public interface Running extends AutoCloseable {
        URI uri();

        /** Stops the container; a failure to stop fails the test that started it. */
        @Override
        void close();
    }

    /**
     * Starts {@code servlet} with {@code initParams}. {@code maxThreads} bounds the container's request threads
     * (0 for the container's default).
     */
    public Running start(Servlet servlet, Map<String, String> initParams, int maxThreads) throws Exception {
        return start(servlet, initParams, maxThreads, false);
    }

    /**
     * As {@link #start(Servlet, Map, int)}; {@code h2c} also serves clear-text HTTP/2 (prior knowledge and
     * {@code Upgrade: h2c}) on the same connector: Jetty's HTTP2CServerConnectionFactory, Tomcat's Http2Protocol.
     */
    public Running start(Servlet servlet, Map<String, String> initParams, int maxThreads, boolean h2c)
            throws Exception {
        assumeInThisRun();
        return switch (this) {
            case JETTY_EE11 -> startJetty(maxThreads, h2c, server -> {
                var context = new org.eclipse.jetty.ee11.servlet.ServletContextHandler("/");
                context.getServletHandler().setStartWithUnavailable(false);
                var holder = new org.eclipse.jetty.ee11.servlet.ServletHolder("sluice", servlet);
                holder.setInitParameters(initParams);
                holder.setAsyncSupported(true);
                holder.setInitOrder(0);
                context.addServlet(holder, "/");
                return context;
            });
            case JETTY_EE10 -> startJetty(maxThreads, h2c, server -> {
                var context = new org.eclipse.jetty.ee10.servlet.ServletContextHandler("/");
                context.getServletHandler().setStartWithUnavailable(false);
                var holder = new org.eclipse.jetty.ee10.servlet.ServletHolder("sluice", servlet);
                holder.setInitParameters(initParams);
                holder.setAsyncSupported(true);
                holder.setInitOrder(0);
                context.addServlet(holder, "/");
                return context;
            });
            case TOMCAT -> startTomcat(servlet, initParams, maxThreads, false, h2c);
        };
    }

    /** Skips the calling test unless this container is in the run ({@code -Dsluice.it.containers=A,B}). */
    public void assumeInThisRun() {
        String only = System.getProperty("sluice.it.containers");
        org.junit.jupiter.api.Assumptions.assumeTrue(only == null || only.contains(name()),
                () -> name() + " is not in this run (sluice.it.containers=" + only + ")");
    }

    private interface ContextFactory {
        org.eclipse.jetty.server.Handler create(Server server);
    }

    private static Running startJetty(int maxThreads, boolean h2c, ContextFactory contexts) throws Exception {
        QueuedThreadPool threads = maxThreads > 0 ? new QueuedThreadPool(maxThreads, Math.min(4, maxThreads))
                : new QueuedThreadPool();
        threads.setName("jetty");
        Server server = new Server(threads);
        var config = new org.eclipse.jetty.server.HttpConfiguration();
        ServerConnector connector = h2c
                ? new ServerConnector(server, 1, 1, new org.eclipse.jetty.server.HttpConnectionFactory(config),
                        new org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory(config))
                : new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(contexts.create(server));
        try {
            server.start();
        } catch (Exception e) {
            server.stop();
            throw e;
        }
        URI uri = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/");
        return new Running() {
            @Override
            public URI uri() {
                return uri;
            }

            @Override
            public void close() {
                try {
                    server.stop();
                } catch (Exception e) {
                    throw new IllegalStateException("Jetty did not stop", e);
                }
            }
        };
    }

    /** Tomcat with its connector's default {@code useSendfile=true}; skipped when Tomcat is not in this run. */
    public static Running startTomcatWithSendfile(Servlet servlet, Map<String, String> initParams, int maxThreads)
            throws Exception {
        TOMCAT.assumeInThisRun();
        return startTomcat(servlet, initParams, maxThreads, true, false);
    }

    /**
     * Apart so that verifying ContainerKind does not load Tomcat's UpgradeProtocol: the servlet-6.0 run has no
     * Tomcat on its class path.
     */
    private static final class TomcatH2c {
        static void enable(Connector connector) {
            connector.addUpgradeProtocol(new org.apache.coyote.http2.Http2Protocol());
        }
    }

    private static Running startTomcat(Servlet servlet, Map<String, String> initParams, int maxThreads,
            boolean sendfile, boolean h2c) throws Exception {
        Path base = Files.createTempDirectory("sluice-tomcat-");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        connector.setProperty("useSendfile", Boolean.toString(sendfile));
        if (maxThreads > 0) {
            connector.setProperty("maxThreads", Integer.toString(maxThreads));
            connector.setProperty("minSpareThreads", Integer.toString(Math.min(4, maxThreads)));
        }
        if (h2c) {
            TomcatH2c.enable(connector);
        }
        tomcat.setConnector(connector);
        tomcat.getHost().setAutoDeploy(false);
        Context context = tomcat.addContext("", base.toString());
        ((StandardContext) context).setFailCtxIfServletStartFails(true);
        Tomcat.addDefaultMimeTypeMappings(context);
        Wrapper wrapper = Tomcat.addServlet(context, "sluice", servlet);
        wrapper.setAsyncSupported(true);
        wrapper.setLoadOnStartup(0);
        initParams.forEach(wrapper::addInitParameter);
        context.addServletMappingDecoded("/", "sluice");
        tomcat.start();
        if (context.getState() != org.apache.catalina.LifecycleState.STARTED) {
            tomcat.stop();
            tomcat.destroy();
            throw new IllegalStateException("the webapp failed to start: " + context.getState());
        }
        URI uri = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/");
        return new Running() {
            @Override
            public URI uri() {
                return uri;
            }

            @Override
            public void close() {
                try {
                    tomcat.stop();
                    tomcat.destroy();
                    org.apache.commons.io.file.PathUtils.deleteDirectory(base);
                } catch (Exception e) {
                    throw new IllegalStateException("Tomcat did not stop", e);
                }
            }
        };
    }
}
