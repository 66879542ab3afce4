package dev.sluice.it;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/** Thread dumps of this JVM for failure messages: the embedded servers run in it beside the tests. */
final class ThreadDump {

    private ThreadDump() {
    }

    /** Every thread: its state, the lock it waits on and who holds it, and its whole stack. */
    static String all() {
        return of(info -> true, Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    /**
     * The server's threads now that are in Sluice's code, or running or blocked in the container's (idle pool
     * threads and the tests' own left out), with their top frames; about 12 KB at most.
     */
    static String server() {
        return of(info -> {
            List<String> classes = Arrays.stream(info.getStackTrace()).map(StackTraceElement::getClassName).toList();
            boolean test = classes.stream().anyMatch(name -> name.startsWith("dev.sluice.it."));
            boolean sluice = classes.stream().anyMatch(name -> name.startsWith("dev.sluice."));
            boolean container = classes.stream().anyMatch(name -> name.startsWith("org.eclipse.jetty.")
                    || name.startsWith("org.apache.catalina.") || name.startsWith("org.apache.coyote.")
                    || name.startsWith("org.apache.tomcat."));
            boolean busy = info.getThreadState() == Thread.State.RUNNABLE
                    || info.getThreadState() == Thread.State.BLOCKED;
            return !test && (sluice || container && busy);
        }, 14, 12_000);
    }

    /**
     * The threads {@code which} picks, as {@link #all} writes them but with at most {@code frames} frames each; no
     * more threads once the text is {@code maxChars} long.
     */
    static String of(Predicate<ThreadInfo> which, int frames, int maxChars) {
        StringBuilder out = new StringBuilder();
        for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
            if (out.length() >= maxChars || !which.test(info)) {
                continue;
            }
            out.append('"').append(info.getThreadName()).append("\" ").append(info.getThreadState());
            if (info.getLockName() != null) {
                out.append(" on ").append(info.getLockName());
            }
            if (info.getLockOwnerName() != null) {
                out.append(" owned by \"").append(info.getLockOwnerName()).append('"');
            }
            out.append('\n');
            StackTraceElement[] stack = info.getStackTrace();
            for (int f = 0; f < Math.min(stack.length, frames); f++) {
                out.append("\tat ").append(stack[f]).append('\n');
            }
            out.append('\n');
        }
        return out.toString();
    }
}
