package dev.sluice.stream;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/** Holds submitted tasks until the test runs them, so a test decides exactly when each read completes. */
final class ManualExecutor implements Executor {

    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
    }

    boolean runNext() {
        Runnable task = tasks.poll();
        if (task == null) {
            return false;
        }
        task.run();
        return true;
    }

    void runAll() {
        while (runNext()) {
            // each task may queue more
        }
    }

    int pending() {
        return tasks.size();
    }
}
