import static org.junit.jupiter.api.Assertions.*;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import llm.Parallel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The shared thread pool: chunks and tiles cover the range once, errors, nesting, concurrency, no allocation. */
class ParallelTest {

    private static final int DEFAULT_THREADS = Math.max(1, Runtime.getRuntime().availableProcessors());
    private static final int[] SIZES = {0, 1, 2, 3, 7, 1000};

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(DEFAULT_THREADS);
    }

    /** The [from, to) ranges one call handed to its task, from whichever threads ran them. */
    private static List<List<Integer>> rangesOf(Consumer<Parallel.RangeTask> call) {
        List<List<Integer>> ranges = Collections.synchronizedList(new ArrayList<>());
        call.accept((from, to) -> ranges.add(List.of(from, to)));
        return ranges;
    }

    private static void assertCoveredOnce(int n, List<List<Integer>> ranges) {
        int[] times = new int[n];
        for (List<Integer> range : ranges) {
            for (int i = range.get(0); i < range.get(1); i++) times[i]++;
        }
        for (int i = 0; i < n; i++) assertEquals(1, times[i], "index " + i + " of " + n + " ran " + times[i] + " times");
    }

    @Test
    void forRangeCoversEveryIndexOnceInTheDocumentedChunks() {
        for (int threads = 1; threads <= 4; threads++) {
            Parallel.setThreads(threads);
            for (int n : SIZES) {
                List<List<Integer>> ranges = rangesOf(task -> Parallel.forRange(n, task));
                assertCoveredOnce(n, ranges);
                Set<List<Integer>> expected = new HashSet<>();
                int chunks = Math.min(threads, n);
                for (int c = 0; c < chunks; c++) expected.add(List.of(n * c / chunks, n * (c + 1) / chunks));
                assertEquals(expected, Set.copyOf(ranges), threads + " threads, n = " + n);
                assertEquals(chunks, ranges.size());
            }
        }
    }

    @Test
    void forTilesCoversEveryIndexOnceInWholeTiles() {
        for (int threads = 1; threads <= 4; threads++) {
            Parallel.setThreads(threads);
            for (int n : SIZES) {
                for (int tile : new int[] {1, 3, 16}) {
                    List<List<Integer>> ranges = rangesOf(task -> Parallel.forTiles(n, tile, task));
                    assertCoveredOnce(n, ranges);
                    String where = threads + " threads, n = " + n + ", tile = " + tile;
                    if (n == 0) {
                        assertEquals(List.of(), ranges, where);
                    } else {
                        // a caller's task may size its buffers by the tile (prefill does), so even inline
                        // runs (one thread) see whole tiles, never the whole range at once
                        for (List<Integer> range : ranges) {
                            assertEquals(0, range.get(0) % tile, where + ": " + range);
                            assertEquals(Math.min(n, range.get(0) + tile), range.get(1), where + ": " + range);
                        }
                    }
                }
            }
        }
    }

    @Test
    void theCallerRunsChunkZeroAndWorkersAreNamedDaemons() {
        Parallel.setThreads(3);
        Thread caller = Thread.currentThread();
        Thread[] ranChunk = new Thread[3];
        AtomicIntegerArray started = new AtomicIntegerArray(3);
        Parallel.forRange(300, (from, to) -> {
            ranChunk[from / 100] = Thread.currentThread();
            started.set(from / 100, 1);
            // The caller would take back chunks no worker has started: wait here until they have.
            if (from == 0) awaitTrue(() -> started.get(1) + started.get(2) == 2);
        });
        assertSame(caller, ranChunk[0]);
        for (int c = 1; c < 3; c++) {
            assertNotSame(caller, ranChunk[c]);
            assertTrue(ranChunk[c].getName().startsWith("llm-parallel-"), ranChunk[c].getName());
            assertTrue(ranChunk[c].isDaemon());
        }
        assertNotSame(ranChunk[1], ranChunk[2]);
    }

    @Test
    void setThreadsRetiresTheOldWorkers() throws InterruptedException {
        Parallel.setThreads(3);
        Parallel.forRange(3, (from, to) -> {});
        List<Thread> old = poolThreads();
        assertTrue(old.size() >= 2, "3 threads: the caller and 2 workers, got " + old);
        Parallel.setThreads(2);
        for (Thread worker : old) {
            worker.join(5000);
            assertFalse(worker.isAlive(), worker.getName() + " still runs after setThreads");
        }
        Parallel.forRange(2, (from, to) -> {});
        assertEquals(List.of("llm-parallel-1"), poolThreads().stream().map(Thread::getName).toList(), "a new pool of 1 worker");
        assertEquals(2, Parallel.threads());
    }

    @Test
    void aSlowThreadTakesFewerTiles() {
        Parallel.setThreads(2);
        Thread caller = Thread.currentThread();
        int[] callerTiles = new int[1];
        Parallel.forTiles(100, 1, (from, to) -> {
            if (Thread.currentThread() == caller) {
                callerTiles[0]++;
                sleep(2); // the caller is "slow": the worker takes the tiles meanwhile
            }
        });
        assertTrue(callerTiles[0] <= 25, "the slow caller took " + callerTiles[0] + " of 100 tiles (a fixed split: 50)");
    }

    @Test
    void anExceptionInAWorkersChunkReachesTheCallerAndThePoolStillWorks() {
        Parallel.setThreads(2);
        IllegalStateException thrown = new IllegalStateException("chunk failed");
        assertSame(thrown, assertThrows(IllegalStateException.class,
                () -> Parallel.forRange(10, (from, to) -> { if (from != 0) throw thrown; })));
        AssertionError error = new AssertionError("tile failed");
        assertSame(error, assertThrows(AssertionError.class,
                () -> Parallel.forTiles(10, 1, (from, to) -> { if (from == 9) throw error; })));
        Exception checked = new Exception("checked");
        RuntimeException wrapped = assertThrows(RuntimeException.class,
                () -> Parallel.forRange(10, (from, to) -> { if (from != 0) sneakyThrow(checked); }));
        assertSame(checked, wrapped.getCause());

        assertCoveredOnce(1000, rangesOf(task -> Parallel.forRange(1000, task)));
        assertCoveredOnce(1000, rangesOf(task -> Parallel.forTiles(1000, 7, task)));
    }

    @Test
    void theCallersExceptionWaitsForTheOtherChunks() {
        Parallel.setThreads(2);
        AtomicBoolean workerDone = new AtomicBoolean();
        AtomicBoolean workerStarted = new AtomicBoolean();
        assertThrows(IllegalStateException.class, () -> Parallel.forRange(2, (from, to) -> {
            if (from == 0) {
                awaitTrue(workerStarted::get); // else the caller would run chunk 1 itself
                throw new IllegalStateException("caller's chunk");
            }
            workerStarted.set(true);
            sleep(30);
            workerDone.set(true);
        }));
        assertTrue(workerDone.get(), "forRange returned before the worker's chunk finished");
    }

    @Test
    void anInterruptedCallerStillWaitsForAllChunksAndKeepsTheFlag() {
        Parallel.setThreads(2);
        AtomicBoolean workerStarted = new AtomicBoolean();
        AtomicBoolean workerDone = new AtomicBoolean();
        Thread.currentThread().interrupt();
        Parallel.forRange(2, (from, to) -> {
            if (from == 0) {
                awaitTrue(workerStarted::get); // else the caller would run chunk 1 itself
            } else {
                workerStarted.set(true);
                sleep(30);
                workerDone.set(true);
            }
        });
        assertTrue(Thread.interrupted(), "the interrupt flag is set again");
        assertTrue(workerDone.get(), "forRange returned before the worker's chunk finished");
    }

    @Test
    void nestedCallsRunInlineAndComplete() {
        Parallel.setThreads(2);
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicIntegerArray outer = new AtomicIntegerArray(4);
        Parallel.forRange(4, (from, to) -> {
            for (int i = from; i < to; i++) outer.incrementAndGet(i);
            Thread here = Thread.currentThread();
            List<List<Integer>> inner = new ArrayList<>();
            Parallel.forRange(10, (a, b) -> { if (Thread.currentThread() != here) problems.add("forRange left " + here); inner.add(List.of(a, b)); });
            Parallel.forTiles(10, 2, (a, b) -> { if (Thread.currentThread() != here) problems.add("forTiles left " + here); inner.add(List.of(a, b)); });
            List<List<Integer>> expected = List.of(List.of(0, 10), List.of(0, 2), List.of(2, 4), List.of(4, 6), List.of(6, 8), List.of(8, 10));
            if (!inner.equals(expected)) problems.add(here.getName() + " ran " + inner);
        });
        assertEquals(List.of(), List.copyOf(problems));
        for (int i = 0; i < 4; i++) assertEquals(1, outer.get(i));
    }

    @Test
    void badArgumentsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.setThreads(0));
        assertEquals("threads must be at least 1, got 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Parallel.forTiles(10, 0, (from, to) -> {}));
        assertEquals(DEFAULT_THREADS, Parallel.threads(), "a rejected setThreads changes nothing");
    }

    @Test
    void concurrentCallersFromFourThreadsGetCorrectResults() throws Exception {
        Parallel.setThreads(2);
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> results = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int seed = c;
                results.add(callers.submit(() -> {
                    long[] squares = new long[1000];
                    for (int round = 0; round < 200; round++) {
                        long offset = seed * 1000L + round;
                        if (round % 2 == 0) {
                            Parallel.forRange(1000, (from, to) -> { for (int i = from; i < to; i++) squares[i] = (long) i * i + offset; });
                        } else {
                            Parallel.forTiles(1000, 16, (from, to) -> { for (int i = from; i < to; i++) squares[i] = (long) i * i + offset; });
                        }
                        for (int i = 0; i < 1000; i++) assertEquals((long) i * i + offset, squares[i], "caller " + seed + ", round " + round);
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) result.get(60, TimeUnit.SECONDS);
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void warmCallsAllocateNothing() throws InterruptedException {
        // Start from no pool, so that the llm-parallel threads alive after the first call are exactly this pool's.
        Parallel.setThreads(1);
        for (Thread t : poolThreads()) t.join(5000);
        Parallel.setThreads(2);

        long[] out = new long[64];
        Parallel.RangeTask task = (from, to) -> { for (int i = from; i < to; i++) out[i] += i; };
        for (int i = 0; i < 20_000; i++) { // warm-up: the JIT compiles the hand-off
            Parallel.forRange(64, task);
            Parallel.forTiles(64, 8, task);
        }
        List<Thread> threads = new ArrayList<>(poolThreads());
        assertEquals(1, threads.size(), "one worker for 2 threads: " + threads);
        threads.add(Thread.currentThread());
        long[] ids = threads.stream().mapToLong(Thread::threadId).toArray();
        com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

        long before = allocatedBytes(bean, ids);
        for (int i = 0; i < 10_000; i++) {
            Parallel.forRange(64, task);
            Parallel.forTiles(64, 8, task);
        }
        long allocated = allocatedBytes(bean, ids) - before;
        // The smallest Java object is 16 bytes, so 20,000 calls that each allocated anything would show at
        // least 320 KB. 16 KiB leaves room for the measurement itself and one-off work of the JVM.
        assertTrue(allocated < 16 * 1024, "20,000 warm calls allocated " + allocated + " bytes");
    }

    private static long allocatedBytes(com.sun.management.ThreadMXBean bean, long[] ids) {
        long total = 0;
        for (long id : ids) total += bean.getThreadAllocatedBytes(id);
        return total;
    }

    private static List<Thread> poolThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("llm-parallel-") && t.isAlive())
                .collect(Collectors.toList());
    }

    /** Spins until condition holds (a worker picks up its part within microseconds; 10 s is a hang). */
    private static void awaitTrue(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out");
            Thread.onSpinWait();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> void sneakyThrow(Throwable e) throws E {
        throw (E) e; // a RangeTask cannot declare a checked exception; this throws one anyway
    }
}
