package dev.sluice.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PageTouch}: which bytes it touches, what a page the file no longer has does, and the pipes it holds. */
class PageTouchTest {

    @TempDir
    Path dir;

    @Test
    void theBytesTouchedHoldOneOfEveryPageWhereverTheSliceStarts() {
        int page = PageTouch.STRIDE;
        for (int bytes : new int[] {1, 2, page - 1, page, page + 1, 2 * page, 100_000, 128 * 1024, 128 * 1024 + 1}) {
            int[] offsets = PageTouch.offsetsToTouch(bytes);
            for (int start : new int[] {0, 1, 777, page - 1}) { // where on a page the slice starts
                List<Integer> missed = new ArrayList<>();
                for (long p = start / page; p <= (start + bytes - 1L) / page; p++) {
                    long pageIndex = p;
                    boolean hit = false;
                    for (int offset : offsets) {
                        assertTrue(offset >= 0 && offset < bytes, offset + " of " + bytes);
                        hit |= (start + offset) / page == pageIndex;
                    }
                    if (!hit) {
                        missed.add((int) pageIndex);
                    }
                }
                assertEquals(List.of(), missed, bytes + " bytes from " + start + " on a page");
            }
        }
        assertArrayEquals(new int[0], PageTouch.offsetsToTouch(0));
        assertArrayEquals(new int[] {0, page}, PageTouch.offsetsToTouch(page + 1));
        assertArrayEquals(new int[] {0, page, page + 6}, PageTouch.offsetsToTouch(page + 7));
    }

    /**
     * A file truncated under its mapping: the touch of a page it no longer has fails the call, and nothing fails
     * the thread later. Touched from Java ({@code MappedByteBuffer.load()}), the same page is a {@code SIGBUS} that
     * Java 17 raises as an {@link InternalError} at a later safepoint: the collections below bring one about.
     */
    @Test
    void aPageTheFileNoLongerHasFailsTheTouchAndNothingElse() throws Exception {
        Path file = Files.write(dir.resolve("f"), new byte[1 << 20]);
        try (PageTouch touch = new PageTouch();
                FileChannel channel = FileChannel.open(file);
                FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
            MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, 1 << 20);
            touch.touch(mapping.slice(0, 1 << 20));
            writer.truncate(40_000); // pages 0 to 9 stay

            PageTouch.UnreadablePage failed =
                    assertThrows(PageTouch.UnreadablePage.class, () -> touch.touch(mapping.slice(0, 1 << 20)));
            assertTrue(failed.offset() <= 10 * PageTouch.STRIDE, failed.getMessage());
            touch.touch(mapping.slice(0, 40_000)); // the pages the file has are touched as before
            assertThrows(PageTouch.UnreadablePage.class, () -> touch.touch(mapping.slice(40_960, 100)));
            for (int i = 0; i < 5; i++) {
                System.gc();
                touch.touch(mapping.slice(4096, 8192));
            }
        }
    }

    @Test
    void leavesItsPipeEmptyAndHoldsOneForCallsOneAfterTheOtherAndNoneOnceClosed() throws Exception {
        Path file = Files.write(dir.resolve("f"), new byte[8 << 20]);
        try (FileChannel channel = FileChannel.open(file);
                FileChannel writer = FileChannel.open(file, StandardOpenOption.WRITE)) {
            MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, 8 << 20);
            PageTouch touch = new PageTouch();
            for (int i = 0; i < 20_000; i++) { // bytes left in the pipe would fill it and block a call for good
                touch.touch(mapping.slice((i * 4099) % (1 << 19), 1 + i % 300_000));
                if (i % 100 == 0) {
                    assertTrue(touch.idlePipesAreEmpty(), "after call " + i);
                }
            }
            touch.touch(mapping.slice(0, 8 << 20)); // 2,049 bytes to touch: three writes of at most 1,024
            assertTrue(touch.idlePipesAreEmpty());
            assertEquals(1, touch.pipesOpen());
            writer.truncate(4096);
            for (int i = 0; i < 10; i++) {
                assertThrows(PageTouch.UnreadablePage.class, () -> touch.touch(mapping.slice(0, 1 << 20)));
                assertEquals(0, touch.pipesOpen(), "a pipe whose write failed is closed, not given back");
                touch.touch(mapping.slice(0, 4096));
                assertEquals(1, touch.pipesOpen());
            }
            touch.close();
            assertEquals(0, touch.pipesOpen());
        }
    }

    /** Calls at once each take a pipe of their own, and every one is closed with the touch. */
    @Test
    void callsAtOnceTakeAPipeEachAndAllAreClosed() throws Exception {
        Path file = Files.write(dir.resolve("f"), new byte[1 << 20]);
        Set<String> before = openPipes();
        try (FileChannel channel = FileChannel.open(file)) {
            MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, 1 << 20);
            PageTouch touch = new PageTouch();
            int threads = 4;
            CyclicBarrier together = new CyclicBarrier(threads);
            List<Thread> running = new ArrayList<>();
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < threads; t++) {
                Thread thread = new Thread(() -> {
                    try {
                        for (int i = 0; i < 2_000; i++) {
                            together.await();
                            touch.touch(mapping.slice(0, 1 << 20));
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                        together.reset();
                    }
                });
                running.add(thread);
                thread.start();
            }
            for (Thread thread : running) {
                thread.join();
            }
            assertEquals(List.of(), failures);
            assertTrue(touch.pipesOpen() >= 1 && touch.pipesOpen() <= threads, touch.pipesOpen() + " pipes");
            Set<String> ours = openPipes();
            ours.removeAll(before);
            assertEquals(touch.pipesOpen(), ours.size()); // a pipe's two ends name it alike
            assertTrue(touch.idlePipesAreEmpty());
            touch.close();
            assertEquals(0, touch.pipesOpen());
            Set<String> left = openPipes();
            left.retainAll(ours);
            assertEquals(Set.of(), left);
        }
    }

    /** The pipes this process has open, as {@code /proc} names them ({@code pipe:[inode]}). */
    private static Set<String> openPipes() throws IOException {
        Set<String> pipes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            fds.forEach(fd -> {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("pipe:")) {
                        pipes.add(target);
                    }
                } catch (IOException e) {
                    // closed while we looked
                }
            });
        }
        return pipes;
    }
}
