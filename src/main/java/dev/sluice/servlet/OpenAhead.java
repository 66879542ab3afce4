package dev.sluice.servlet;

import dev.sluice.resource.FileCache;
import dev.sluice.resource.OpenedFile;
import dev.sluice.resource.Resolution;
import dev.sluice.resource.SharedFiles;
import dev.sluice.stream.GrowingThreads;
import dev.sluice.stream.JoinableThreads;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Takes the storage calls that a request for a file would make on its container thread (resolving its path,
 * opening its file) to threads of Sluice's own, so that a new download waits for slow storage without holding a
 * container thread. Without it, every container thread of a server whose storage stalls (a network mount, a busy
 * FUSE process) could end up waiting in {@code open} or {@code realpath} for new downloads, and requests that need
 * no storage at all (small files the cache holds, the status page) would wait behind them.
 *
 * <p><b>How.</b> {@link #hop} puts the request in async mode and hands the storage calls to a thread of this
 * class; when they return, that thread dispatches the request back to its URL
 * ({@link AsyncContext#dispatch()}). The dispatch answers it as any request, on a container thread, with what
 * the hop found ({@link #claim}): the path's resolution, and the file, held open in {@link SharedFiles} until the
 * dispatch has taken a view of the same descriptor ({@link SharedFiles#another}, no storage call) and answered
 * ({@link Hop#release}). Not from the cache: an entry stamped before a slow call may be too old by the time the
 * dispatch comes. A call that failed (a file missing or unreadable by now) is made again by the dispatch, which
 * answers as it says.
 *
 * <p><b>When.</b> Only when the request would otherwise touch the storage on its thread, told without a storage
 * call ({@link FileCache#known}, {@link SharedFiles#isOpen}): the path has no usable cache entry, or its file is
 * neither held open nor in the cache's memory. Not for the dispatch back, error pages or forwards (only
 * {@link DispatcherType#REQUEST}), not in a chain that cannot go async, and not where Tomcat's sendfile may send
 * the body: a request that went async can no longer end in Tomcat's sendfile, and Tomcat opens the file on its
 * own thread then anyway. When all threads are busy and {@link #QUEUE} hops wait, a request is dispatched back at
 * once and makes its own calls, as without this class.
 *
 * <p>What still touches the storage on a container thread: {@link SharedFiles#open}'s check of the attributes of
 * a file open already for another download (answered by the kernel's attribute cache as a rule), the lookups of
 * precompressed variants, welcome files and directory listings. A client that goes away while its hop waits is
 * not noticed (neither container watches an idle async request's connection): its hop runs in its turn, and the
 * dispatch's first write fails. When the servlet stops, hops still waiting for a thread are answered 503.
 *
 * <p>Thread-safe.
 */
final class OpenAhead implements AutoCloseable {

    /** The request attribute that carries a {@link Hop} to its dispatch. */
    static final String ATTRIBUTE = "dev.sluice.openAhead";

    /** Hops waiting for a thread at most; more are made by their own dispatch, as without hops. */
    static final int QUEUE = 4096;

    private final FileCache files;
    private final SluiceSender sender;
    private final ThreadPoolExecutor threads;

    /**
     * Hops for the paths of {@code files}, opening into {@code sender}'s shared files, on at most {@code threads}
     * threads of their own, added only when a hop finds none idle (they end after 30 s idle).
     */
    OpenAhead(FileCache files, SluiceSender sender, int threads) {
        this.files = files;
        this.sender = sender;
        this.threads = new GrowingThreads(threads, QUEUE, Duration.ofSeconds(30), JoinableThreads.daemon("sluice-open-"));
    }

    /**
     * What a hop leaves for its dispatch: the link it verified (a signed link is checked once, when the request
     * arrives) and the file it holds open. The file is closed once, by whichever comes first: the dispatch when it
     * has answered, or the end of the request (an error or timeout, a client gone before the dispatch). A file
     * opened after that is closed at once ({@link #hold}).
     */
    static final class Hop implements AsyncListener {
        private final String signedPath;
        /** Guarded by {@code this}. */
        private Resolution resolution;
        /** Guarded by {@code this}. */
        private OpenedFile held;
        /** Guarded by {@code this}: set by the first {@link #release}, after which nothing is held. */
        private boolean released;

        Hop(String signedPath) {
            this.signedPath = signedPath;
        }

        /** The path the request's signed link was verified for, or null. */
        String signedPath() {
            return signedPath;
        }

        /** What resolving the path found, or null if the hop did not resolve it (it failed, or never ran). */
        synchronized Resolution resolution() {
            return resolution;
        }

        synchronized void resolved(Resolution found) {
            resolution = found;
        }

        /** The file held for the dispatch, or null (none opened, or released). */
        synchronized OpenedFile held() {
            return held;
        }

        /** Holds {@code file} for the dispatch, or closes it if the request has ended already. */
        void hold(OpenedFile file) {
            synchronized (this) {
                if (!released) {
                    held = file;
                    return;
                }
            }
            close(file);
        }

        /** Closes the held file, if one is held; the request needs it no more. */
        void release() {
            OpenedFile file;
            synchronized (this) {
                released = true;
                file = held;
                held = null;
            }
            if (file != null) {
                close(file);
            }
        }

        private static void close(OpenedFile file) {
            try {
                file.close();
            } catch (IOException e) {
                // a view of a shared descriptor: its last holder's close reports a failure, which nobody awaits
            }
        }

        @Override
        public void onComplete(AsyncEvent event) {
            release();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            release();
        }

        @Override
        public void onError(AsyncEvent event) {
            release();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            release(); // the dispatch went async to send: it opened its own view before
        }
    }

    /**
     * Whether {@code request} would touch the storage on this thread to be answered, told without a storage call
     * (see the class comment).
     */
    boolean wanted(HttpServletRequest request, HttpServletResponse response, String rawPath) {
        if (request.getDispatcherType() != DispatcherType.REQUEST || !request.isAsyncSupported()
                || sender.tomcatMaySendfile(request, response)) {
            return false;
        }
        Optional<Resolution> known = files.known(rawPath);
        if (known.isEmpty()) {
            return true;
        }
        return known.get() instanceof Resolution.Found found && files.content(found).isEmpty()
                && !sender.sharedFiles().isOpen(found.file());
    }

    /**
     * Puts {@code request} in async mode and dispatches it back to its URL once a thread of this class has made its
     * storage calls; the caller returns at once and writes nothing.
     *
     * @param signedPath the path the request's signed link was verified for, or null
     */
    void hop(HttpServletRequest request, String rawPath, String signedPath) {
        Hop hop = new Hop(signedPath);
        request.setAttribute(ATTRIBUTE, hop);
        AsyncContext async = request.startAsync();
        async.setTimeout(0); // a storage call that never returns holds no container thread
        async.addListener(hop);
        try {
            threads.execute(new Task(async, hop, rawPath));
        } catch (RejectedExecutionException e) {
            async.dispatch(); // all threads busy and the queue full, or stopping: the dispatch makes its own calls
        }
    }

    /** One hop's work on a thread of this class: the storage calls, then the dispatch back. */
    private final class Task implements Runnable {
        private final AsyncContext async;
        private final Hop hop;
        private final String rawPath;

        Task(AsyncContext async, Hop hop, String rawPath) {
            this.async = async;
            this.hop = hop;
            this.rawPath = rawPath;
        }

        @Override
        public void run() {
            try {
                open();
            } finally {
                try {
                    async.dispatch();
                } catch (RuntimeException e) {
                    // Ended meanwhile (IllegalStateException), or no dispatcher for the URL: nobody takes the file.
                    unavailable();
                }
            }
        }

        /** Resolves the path and opens its file (into the shared ones); a failure is met again by the dispatch. */
        private void open() {
            try {
                Resolution resolution = files.resolve(rawPath);
                hop.resolved(resolution);
                if (resolution instanceof Resolution.Found found && files.content(found).isEmpty()) {
                    hop.hold(sender.sharedFiles().open(found.file()));
                }
            } catch (IOException | RuntimeException e) {
                // the dispatch makes the calls again and answers as they say (404, 403, 500)
            }
        }

        /** Lets the file go and ends the request with a 503, if it has not ended already. */
        void unavailable() {
            hop.release();
            try {
                if (async.getResponse() instanceof HttpServletResponse response && !response.isCommitted()) {
                    response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
                    response.setHeader("Retry-After", "5");
                    response.setContentLength(0);
                }
                async.complete();
            } catch (RuntimeException e) {
                // the request ended already
            }
        }
    }

    /**
     * The hop that dispatched {@code request} back, taken off the request so that no later dispatch (an error page)
     * takes it for its own; null when the request did not hop. The caller calls {@link Hop#release} when it has
     * answered.
     */
    static Hop claim(HttpServletRequest request) {
        if (request.getDispatcherType() != DispatcherType.ASYNC
                || !(request.getAttribute(ATTRIBUTE) instanceof Hop hop)) {
            return null;
        }
        request.removeAttribute(ATTRIBUTE);
        return hop;
    }

    /** Hops waiting for a thread now. */
    int queued() {
        return threads.getQueue().size();
    }

    /**
     * Answers the hops still waiting for a thread 503 and interrupts the running ones (each then dispatches its
     * request), waiting up to 5 s for their threads' end, as {@link FileCache#close} does for the same reason:
     * Tomcat looks for threads a stopped webapp left. A thread stuck in a storage call that ignores interrupts
     * stays until the call returns.
     */
    @Override
    public void close() {
        for (Runnable waiting : threads.shutdownNow()) {
            ((Task) waiting).unavailable();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
            ((JoinableThreads) threads.getThreadFactory()).join(deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
