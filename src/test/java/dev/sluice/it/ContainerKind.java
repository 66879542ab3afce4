package dev.sluice.it;

import dev.sluice.launcher.SendfileConnector;
import dev.sluice.launcher.SerialFillConnection;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.Servlet;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
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

        /** The container's own object for diagnostics (Tomcat's Connector), or null. */
        default Object internals() {
            return null;
        }

        /** Stops the container; a failure to stop fails the test that started it. */
        @Override
        void close();
    }

    /**
     * The container's own security, as the web.xml docs/security.md shows sets it up: the URLs
     * {@code protectedPattern} matches need {@code role}, users prove who they are with {@code authMethod}, and the
     * container knows {@code users} (Jetty from a {@code HashLoginService}, Tomcat from its embedded realm,
     * {@code Tomcat.addUser}). {@code FORM} also has, as that web.xml does, the pages {@link #LOGIN_PAGE} and
     * {@link #LOGIN_ERROR_PAGE} served from {@code pages} by the container's own {@code DefaultServlet} (Tomcat
     * forwards the login POST that failed to the error page, and Sluice answers only GET and HEAD), and sessions
     * tracked by cookie only (Sluice answers 404 to a {@code ;jsessionid=} path).
     */
    public record Login(String authMethod, String protectedPattern, String role, List<User> users, Path pages) {
        public static final String REALM = "Sluice";
        public static final String LOGIN_PAGE = "/login.html";
        public static final String LOGIN_ERROR_PAGE = "/login-error.html";

        public Login {
            if (!authMethod.equals("BASIC") && !authMethod.equals("FORM")) {
                throw new IllegalArgumentException("BASIC or FORM, not " + authMethod);
            }
            if (authMethod.equals("FORM") == (pages == null)) {
                throw new IllegalArgumentException("FORM and only FORM has login pages");
            }
            users = List.copyOf(users);
        }

        boolean form() {
            return authMethod.equals("FORM");
        }
    }

    /** A user the container knows, with the password and the roles it grants. */
    public record User(String name, String password, List<String> roles) {
        public User {
            roles = List.copyOf(roles);
        }
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
        return start(servlet, initParams, maxThreads, h2c, null, null);
    }

    /**
     * As {@link #start(Servlet, Map, int)}, with the time a connection may make no progress before the container
     * closes it: Jetty's connector {@code idleTimeout} (30 s by default), Tomcat's {@code connectionTimeout} (its
     * read and write timeout; 20 s by default in {@code server.xml}, 60 s embedded).
     */
    public Running start(Servlet servlet, Map<String, String> initParams, int maxThreads, Duration idleTimeout)
            throws Exception {
        return start(servlet, initParams, maxThreads, false, null, idleTimeout);
    }

    /**
     * As {@link #start(Servlet, Map, int, boolean)}, with the container's {@code idleTimeout} as in
     * {@link #start(Servlet, Map, int, Duration)}.
     */
    public Running start(Servlet servlet, Map<String, String> initParams, int maxThreads, boolean h2c,
            Duration idleTimeout) throws Exception {
        return start(servlet, initParams, maxThreads, h2c, null, idleTimeout);
    }

    /** As {@link #start(Servlet, Map, int)}, behind the container's own {@code login}. */
    public Running start(Servlet servlet, Map<String, String> initParams, int maxThreads, Login login)
            throws Exception {
        return start(servlet, initParams, maxThreads, false, login, null);
    }

    private Running start(Servlet servlet, Map<String, String> initParams, int maxThreads, boolean h2c, Login login,
            Duration idleTimeout) throws Exception {
        assumeInThisRun();
        return switch (this) {
            case JETTY_EE11 -> startJetty(true, maxThreads, h2c, idleTimeout, server -> {
                var context = login == null ? new org.eclipse.jetty.ee11.servlet.ServletContextHandler("/")
                        : Ee11Login.context(login);
                context.getServletHandler().setStartWithUnavailable(false);
                var holder = new org.eclipse.jetty.ee11.servlet.ServletHolder("sluice", servlet);
                holder.setInitParameters(initParams);
                holder.setAsyncSupported(true);
                holder.setInitOrder(0);
                context.addServlet(holder, "/");
                return context;
            });
            case JETTY_EE10 -> startJetty(false, maxThreads, h2c, idleTimeout, server -> {
                var context = login == null ? new org.eclipse.jetty.ee10.servlet.ServletContextHandler("/")
                        : Ee10Login.context(login);
                context.getServletHandler().setStartWithUnavailable(false);
                var holder = new org.eclipse.jetty.ee10.servlet.ServletHolder("sluice", servlet);
                holder.setInitParameters(initParams);
                holder.setAsyncSupported(true);
                holder.setInitOrder(0);
                context.addServlet(holder, "/");
                return context;
            });
            case TOMCAT -> startTomcat(servlet, initParams, maxThreads, false, h2c, login, idleTimeout);
        };
    }

    /**
     * A servlet of a {@linkplain #start(List, List) web application}: its name (for named dispatchers), its URL
     * patterns, whether it is async-supported.
     */
    public record ServletSpec(String name, Servlet servlet, Map<String, String> initParams, boolean async,
            List<String> mappings) {
    }

    /** A filter of a {@linkplain #start(List, List) web application}: its URL patterns and dispatcher types. */
    public record FilterSpec(String name, Filter filter, boolean async, List<String> mappings,
            Set<DispatcherType> dispatches) {
    }

    /**
     * Starts a web application at {@code /} of several servlets (each loaded on start-up, in order) and filters
     * (chained in order), with the container's default threads.
     */
    public Running start(List<ServletSpec> servlets, List<FilterSpec> filters) throws Exception {
        return start(servlets, filters, Map.of());
    }

    /**
     * As {@link #start(List, List)}, with error pages: each status code's page at its location in the webapp, and
     * under {@link #EVERY_STATUS} the default page. They are set in the container's own terms and declared in the
     * webapp's {@code /WEB-INF/web.xml} as a WAR would, where Sluice reads them.
     */
    public Running start(List<ServletSpec> servlets, List<FilterSpec> filters, Map<Integer, String> errorPages)
            throws Exception {
        assumeInThisRun();
        if (errorPages.isEmpty()) {
            return start(servlets, filters, errorPages, null, false);
        }
        Path webapp = descriptor(errorPages);
        Running running;
        try {
            running = start(servlets, filters, errorPages, webapp, false);
        } catch (Exception | Error e) {
            org.apache.commons.io.file.PathUtils.deleteDirectory(webapp);
            throw e;
        }
        return new Running() {
            @Override
            public URI uri() {
                return running.uri();
            }

            @Override
            public Object internals() {
                return running.internals();
            }

            @Override
            public void close() {
                try {
                    running.close();
                } finally {
                    try {
                        org.apache.commons.io.file.PathUtils.deleteDirectory(webapp);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            }
        };
    }

    /** As {@link #start(List, List)} on Tomcat as it comes, sendfile on ({@link #startTomcatWithSendfile}). */
    public static Running startTomcatWithSendfile(List<ServletSpec> servlets, List<FilterSpec> filters)
            throws Exception {
        TOMCAT.assumeInThisRun();
        return TOMCAT.start(servlets, filters, Map.of(), null, true);
    }

    /** The key of {@link #start(List, List, Map)}'s error pages for the default page, the one for every status. */
    public static final int EVERY_STATUS = 0;

    /** A webapp folder with only the {@code WEB-INF/web.xml} that declares {@code errorPages}. */
    private static Path descriptor(Map<Integer, String> errorPages) throws java.io.IOException {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<web-app xmlns=\"https://jakarta.ee/xml/ns/jakartaee\" version=\"6.0\">\n");
        errorPages.forEach((status, location) -> xml.append("  <error-page>")
                .append(status == EVERY_STATUS ? "" : "<error-code>" + status + "</error-code>")
                .append("<location>").append(location).append("</location></error-page>\n"));
        xml.append("</web-app>\n");
        Path webapp = Files.createTempDirectory("sluice-webapp-");
        Files.createDirectories(webapp.resolve("WEB-INF"));
        Files.writeString(webapp.resolve("WEB-INF/web.xml"), xml);
        return webapp;
    }

    private Running start(List<ServletSpec> servlets, List<FilterSpec> filters, Map<Integer, String> errorPages,
            Path webapp, boolean tomcatSendfile) throws Exception {
        return switch (this) {
            case JETTY_EE11 -> startJetty(true, 0, false, null, server -> {
                var context = new org.eclipse.jetty.ee11.servlet.ServletContextHandler("/");
                var handler = context.getServletHandler();
                handler.setStartWithUnavailable(false);
                for (ServletSpec spec : servlets) {
                    var holder = new org.eclipse.jetty.ee11.servlet.ServletHolder(spec.name(), spec.servlet());
                    holder.setInitParameters(spec.initParams());
                    holder.setAsyncSupported(spec.async());
                    holder.setInitOrder(0);
                    handler.addServlet(holder);
                    var mapping = new org.eclipse.jetty.ee11.servlet.ServletMapping();
                    mapping.setServletName(spec.name());
                    mapping.setPathSpecs(spec.mappings().toArray(String[]::new));
                    handler.addServletMapping(mapping);
                }
                for (FilterSpec spec : filters) {
                    var holder = new org.eclipse.jetty.ee11.servlet.FilterHolder(spec.filter());
                    holder.setName(spec.name());
                    holder.setAsyncSupported(spec.async());
                    handler.addFilter(holder);
                    var mapping = new org.eclipse.jetty.ee11.servlet.FilterMapping();
                    mapping.setFilterName(spec.name());
                    mapping.setPathSpecs(spec.mappings().toArray(String[]::new));
                    mapping.setDispatcherTypes(EnumSet.copyOf(spec.dispatches()));
                    handler.addFilterMapping(mapping);
                }
                if (!errorPages.isEmpty()) {
                    var pages = new org.eclipse.jetty.ee11.servlet.ErrorPageErrorHandler();
                    errorPages.forEach((status, location) -> {
                        if (status == EVERY_STATUS) {
                            pages.addErrorPage(org.eclipse.jetty.ee11.servlet.ErrorPageErrorHandler.GLOBAL_ERROR_PAGE,
                                    location);
                        } else {
                            pages.addErrorPage(status, location);
                        }
                    });
                    context.setErrorHandler(pages);
                    context.setBaseResourceAsPath(webapp);
                }
                return context;
            });
            case JETTY_EE10 -> startJetty(false, 0, false, null, server -> {
                var context = new org.eclipse.jetty.ee10.servlet.ServletContextHandler("/");
                var handler = context.getServletHandler();
                handler.setStartWithUnavailable(false);
                for (ServletSpec spec : servlets) {
                    var holder = new org.eclipse.jetty.ee10.servlet.ServletHolder(spec.name(), spec.servlet());
                    holder.setInitParameters(spec.initParams());
                    holder.setAsyncSupported(spec.async());
                    holder.setInitOrder(0);
                    handler.addServlet(holder);
                    var mapping = new org.eclipse.jetty.ee10.servlet.ServletMapping();
                    mapping.setServletName(spec.name());
                    mapping.setPathSpecs(spec.mappings().toArray(String[]::new));
                    handler.addServletMapping(mapping);
                }
                for (FilterSpec spec : filters) {
                    var holder = new org.eclipse.jetty.ee10.servlet.FilterHolder(spec.filter());
                    holder.setName(spec.name());
                    holder.setAsyncSupported(spec.async());
                    handler.addFilter(holder);
                    var mapping = new org.eclipse.jetty.ee10.servlet.FilterMapping();
                    mapping.setFilterName(spec.name());
                    mapping.setPathSpecs(spec.mappings().toArray(String[]::new));
                    mapping.setDispatcherTypes(EnumSet.copyOf(spec.dispatches()));
                    handler.addFilterMapping(mapping);
                }
                if (!errorPages.isEmpty()) {
                    var pages = new org.eclipse.jetty.ee10.servlet.ErrorPageErrorHandler();
                    errorPages.forEach((status, location) -> {
                        if (status == EVERY_STATUS) {
                            pages.addErrorPage(org.eclipse.jetty.ee10.servlet.ErrorPageErrorHandler.GLOBAL_ERROR_PAGE,
                                    location);
                        } else {
                            pages.addErrorPage(status, location);
                        }
                    });
                    context.setErrorHandler(pages);
                    context.setBaseResourceAsPath(webapp);
                }
                return context;
            });
            case TOMCAT -> startTomcat(0, tomcatSendfile, false, null, null, context -> {
                for (ServletSpec spec : servlets) {
                    Wrapper wrapper = Tomcat.addServlet(context, spec.name(), spec.servlet());
                    wrapper.setAsyncSupported(spec.async());
                    wrapper.setLoadOnStartup(0);
                    spec.initParams().forEach(wrapper::addInitParameter);
                    spec.mappings().forEach(pattern -> context.addServletMappingDecoded(pattern, spec.name()));
                }
                for (FilterSpec spec : filters) {
                    var def = new org.apache.tomcat.util.descriptor.web.FilterDef();
                    def.setFilterName(spec.name());
                    def.setFilter(spec.filter());
                    def.setAsyncSupported(Boolean.toString(spec.async()));
                    context.addFilterDef(def);
                    var map = new org.apache.tomcat.util.descriptor.web.FilterMap();
                    map.setFilterName(spec.name());
                    spec.mappings().forEach(map::addURLPatternDecoded);
                    spec.dispatches().forEach(type -> map.setDispatcher(type.name()));
                    context.addFilterMap(map);
                }
                errorPages.forEach((status, location) -> {
                    var page = new org.apache.tomcat.util.descriptor.web.ErrorPage();
                    page.setErrorCode(status); // 0, EVERY_STATUS, is Tomcat's default page too
                    page.setLocation(location);
                    context.addErrorPage(page);
                });
                if (webapp != null) {
                    context.setDocBase(webapp.toString());
                }
            });
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

    /**
     * {@code sendfile}: the launcher's connector ({@link SendfileConnector}) and HTTP/1.1 connections
     * ({@link SerialFillConnection}, without the header deadline), as the launcher runs by default, so that every
     * test on {@link #JETTY_EE11} runs the engine's mapped chunks through {@code sendfile} on HTTP/1.1, while
     * {@link #JETTY_EE10} keeps Jetty's own connector and connections, the ones a WAR in Jetty gets.
     */
    private static Running startJetty(boolean sendfile, int maxThreads, boolean h2c, Duration idleTimeout,
            ContextFactory contexts) throws Exception {
        QueuedThreadPool threads = maxThreads > 0 ? new QueuedThreadPool(maxThreads, Math.min(4, maxThreads))
                : new QueuedThreadPool();
        threads.setName("jetty");
        Server server = new Server(threads);
        var config = new org.eclipse.jetty.server.HttpConfiguration();
        var http1 = sendfile ? SerialFillConnection.factory(config)
                : new org.eclipse.jetty.server.HttpConnectionFactory(config);
        org.eclipse.jetty.server.ConnectionFactory[] protocols = h2c
                ? new org.eclipse.jetty.server.ConnectionFactory[] {
                    http1, new org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory(config)}
                : new org.eclipse.jetty.server.ConnectionFactory[] {http1};
        ServerConnector connector = sendfile ? SendfileConnector.create(server, 1, 1, true, protocols)
                : new ServerConnector(server, 1, 1, protocols);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        if (idleTimeout != null) {
            connector.setIdleTimeout(idleTimeout.toMillis());
        }
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
        return startTomcatWithSendfile(servlet, initParams, maxThreads, false);
    }

    /** The same, speaking clear-text HTTP/2 too when {@code h2c} (Tomcat's {@code Http2Protocol}, sendfile on). */
    public static Running startTomcatWithSendfile(Servlet servlet, Map<String, String> initParams, int maxThreads,
            boolean h2c) throws Exception {
        TOMCAT.assumeInThisRun();
        return startTomcat(servlet, initParams, maxThreads, true, h2c, null, null);
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

    /**
     * The container's login on Jetty: a {@code ConstraintSecurityHandler} with a {@code HashLoginService} and
     * Jetty's {@code BasicAuthenticator} or {@code FormAuthenticator} (which redirects to the login page, as a
     * web.xml's FORM login does on Jetty); for FORM also sessions, tracked by cookie only, and the login pages from
     * Jetty's DefaultServlet. Apart per environment, so that ee10 runs never load ee11 classes.
     */
    private static final class Ee11Login {
        static org.eclipse.jetty.ee11.servlet.ServletContextHandler context(Login login) {
            var context = new org.eclipse.jetty.ee11.servlet.ServletContextHandler("/",
                    login.form() ? org.eclipse.jetty.ee11.servlet.ServletContextHandler.SESSIONS : 0);
            var security = new org.eclipse.jetty.ee11.servlet.security.ConstraintSecurityHandler();
            var mapping = new org.eclipse.jetty.ee11.servlet.security.ConstraintMapping();
            mapping.setPathSpec(login.protectedPattern());
            mapping.setConstraint(org.eclipse.jetty.security.Constraint.from(login.role()));
            security.addConstraintMapping(mapping);
            jettyLogin(security, login);
            context.setSecurityHandler(security);
            if (login.form()) {
                context.setBaseResourceAsPath(login.pages());
                var pages = new org.eclipse.jetty.ee11.servlet.ServletHolder("default",
                        org.eclipse.jetty.ee11.servlet.DefaultServlet.class);
                context.addServlet(pages, Login.LOGIN_PAGE);
                context.addServlet(pages, Login.LOGIN_ERROR_PAGE);
                context.getSessionHandler().setSessionTrackingModes(
                        java.util.EnumSet.of(jakarta.servlet.SessionTrackingMode.COOKIE));
            }
            return context;
        }
    }

    /** {@link Ee11Login} for ee10. */
    private static final class Ee10Login {
        static org.eclipse.jetty.ee10.servlet.ServletContextHandler context(Login login) {
            var context = new org.eclipse.jetty.ee10.servlet.ServletContextHandler("/",
                    login.form() ? org.eclipse.jetty.ee10.servlet.ServletContextHandler.SESSIONS : 0);
            var security = new org.eclipse.jetty.ee10.servlet.security.ConstraintSecurityHandler();
            var mapping = new org.eclipse.jetty.ee10.servlet.security.ConstraintMapping();
            mapping.setPathSpec(login.protectedPattern());
            mapping.setConstraint(org.eclipse.jetty.security.Constraint.from(login.role()));
            security.addConstraintMapping(mapping);
            jettyLogin(security, login);
            context.setSecurityHandler(security);
            if (login.form()) {
                context.setBaseResourceAsPath(login.pages());
                var pages = new org.eclipse.jetty.ee10.servlet.ServletHolder("default",
                        org.eclipse.jetty.ee10.servlet.DefaultServlet.class);
                context.addServlet(pages, Login.LOGIN_PAGE);
                context.addServlet(pages, Login.LOGIN_ERROR_PAGE);
                context.getSessionHandler().setSessionTrackingModes(
                        java.util.EnumSet.of(jakarta.servlet.SessionTrackingMode.COOKIE));
            }
            return context;
        }
    }

    private static void jettyLogin(org.eclipse.jetty.security.SecurityHandler security, Login login) {
        var users = new org.eclipse.jetty.security.UserStore();
        for (User user : login.users()) {
            users.addUser(user.name(), org.eclipse.jetty.util.security.Credential.getCredential(user.password()),
                    user.roles().toArray(String[]::new));
        }
        var service = new org.eclipse.jetty.security.HashLoginService(Login.REALM);
        service.setUserStore(users);
        security.setLoginService(service);
        security.setRealmName(Login.REALM);
        security.setAuthenticator(login.form()
                ? new org.eclipse.jetty.security.authentication.FormAuthenticator(Login.LOGIN_PAGE,
                        Login.LOGIN_ERROR_PAGE, false)
                : new org.eclipse.jetty.security.authentication.BasicAuthenticator());
    }

    /**
     * The container's login on Tomcat, as its ContextConfig would set it up from a web.xml: the login config, the
     * role, the constraint and the authenticator valve (BASIC, or FORM, which forwards to the login page); the
     * users go to embedded Tomcat's own realm.
     */
    private static final class TomcatLogin {
        static void configure(Tomcat tomcat, Context context, Login login) {
            context.setLoginConfig(new org.apache.tomcat.util.descriptor.web.LoginConfig(login.authMethod(),
                    Login.REALM, login.form() ? Login.LOGIN_PAGE : null,
                    login.form() ? Login.LOGIN_ERROR_PAGE : null));
            context.addSecurityRole(login.role());
            var constraint = new org.apache.tomcat.util.descriptor.web.SecurityConstraint();
            constraint.addAuthRole(login.role());
            var collection = new org.apache.tomcat.util.descriptor.web.SecurityCollection();
            collection.addPatternDecoded(login.protectedPattern());
            constraint.addCollection(collection);
            context.addConstraint(constraint);
            context.getPipeline().addValve(login.form() ? new org.apache.catalina.authenticator.FormAuthenticator()
                    : new org.apache.catalina.authenticator.BasicAuthenticator());
            if (login.form()) {
                context.setDocBase(login.pages().toString());
                Tomcat.addServlet(context, "default", new org.apache.catalina.servlets.DefaultServlet());
                context.addServletMappingDecoded(Login.LOGIN_PAGE, "default");
                context.addServletMappingDecoded(Login.LOGIN_ERROR_PAGE, "default");
                context.addServletContainerInitializer((classes, servletContext) -> servletContext
                        .setSessionTrackingModes(java.util.EnumSet.of(jakarta.servlet.SessionTrackingMode.COOKIE)),
                        null);
            }
            for (User user : login.users()) {
                tomcat.addUser(user.name(), user.password());
                user.roles().forEach(role -> tomcat.addRole(user.name(), role));
            }
        }
    }

    private static Running startTomcat(Servlet servlet, Map<String, String> initParams, int maxThreads,
            boolean sendfile, boolean h2c, Login login, Duration idleTimeout) throws Exception {
        return startTomcat(maxThreads, sendfile, h2c, login, idleTimeout, context -> {
            Wrapper wrapper = Tomcat.addServlet(context, "sluice", servlet);
            wrapper.setAsyncSupported(true);
            wrapper.setLoadOnStartup(0);
            initParams.forEach(wrapper::addInitParameter);
            context.addServletMappingDecoded("/", "sluice");
        });
    }

    /** Tomcat with a context at {@code /} that {@code webapp} fills with servlets and filters, behind {@code login}. */
    private static Running startTomcat(int maxThreads, boolean sendfile, boolean h2c, Login login,
            Duration idleTimeout, Consumer<Context> webapp) throws Exception {
        Path base = Files.createTempDirectory("sluice-tomcat-");
        // Tomcat keeps the first instance's base as the JVM's catalina.home and makes that directory again for every
        // later instance: one empty folder left in /tmp by every test run that starts two Tomcats.
        System.clearProperty("catalina.home");
        System.clearProperty("catalina.base");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        connector.setProperty("useSendfile", Boolean.toString(sendfile));
        if (idleTimeout != null) {
            connector.setProperty("connectionTimeout", Long.toString(idleTimeout.toMillis()));
        }
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
        webapp.accept(context);
        if (login != null) {
            TomcatLogin.configure(tomcat, context, login);
        }
        try {
            tomcat.start();
            if (context.getState() != org.apache.catalina.LifecycleState.STARTED) {
                throw new IllegalStateException("the webapp failed to start: " + context.getState());
            }
        } catch (Exception | Error e) {
            try {
                tomcat.stop();
                tomcat.destroy();
                org.apache.commons.io.file.PathUtils.deleteDirectory(base);
            } catch (Exception cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        URI uri = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/");
        return new Running() {
            @Override
            public URI uri() {
                return uri;
            }

            @Override
            public Object internals() {
                return connector;
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
