package llm;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One fixed pool of daemon threads shared by the whole lib, for splitting a range of independent work
 * (the rows of a matrix-vector product) into one contiguous chunk per thread. The calling thread works
 * on the first chunk itself. A call made from inside a pool thread runs inline, so nested use cannot deadlock.
 */
public final class Parallel {

    /** Work on the half-open range [from, to). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    private static final class Worker extends Thread {
        Worker(Runnable r, int n) {
            super(r, "llm-parallel-" + n);
            setDaemon(true);
        }
    }

    private static int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    private static ExecutorService pool;

    private Parallel() {}

    /** Number of threads (including the caller) that {@link #forRange} uses. */
    public static synchronized int threads() {
        return threads;
    }

    /** Sets the number of threads (at least 1); the old pool's threads finish their work and end. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + n);
        }
        if (n != threads) {
            threads = n;
            if (pool != null) {
                pool.shutdown();
                pool = null;
            }
        }
    }

    private static synchronized ExecutorService pool() {
        if (pool == null && threads > 1) {
            AtomicInteger count = new AtomicInteger();
            pool = Executors.newFixedThreadPool(threads - 1, r -> new Worker(r, count.incrementAndGet()));
        }
        return pool;
    }

    /** Runs task over [0, n), split into one chunk per thread; returns when all chunks are done. */
    public static void forRange(int n, RangeTask task) {
        if (n <= 0) {
            return;
        }
        int chunks;
        ExecutorService executor;
        synchronized (Parallel.class) {
            chunks = Math.min(threads, n);
            executor = chunks > 1 ? pool() : null;
        }
        if (executor == null || Thread.currentThread() instanceof Worker) {
            task.run(0, n);
            return;
        }
        CountDownLatch done = new CountDownLatch(chunks - 1);
        AtomicReference<Throwable> error = new AtomicReference<>();
        for (int c = 1; c < chunks; c++) {
            int from = (int) ((long) n * c / chunks);
            int to = (int) ((long) n * (c + 1) / chunks);
            Runnable chunk = () -> {
                try {
                    task.run(from, to);
                } catch (Throwable e) {
                    error.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            };
            try {
                executor.execute(chunk);
            } catch (RejectedExecutionException e) { // the pool was replaced by setThreads meanwhile
                chunk.run();
            }
        }
        try {
            task.run(0, (int) ((long) n / chunks));
        } catch (Throwable e) {
            error.compareAndSet(null, e);
        }
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the chunks still use the caller's arrays: wait for them
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable e = error.get();
        if (e instanceof RuntimeException re) {
            throw re;
        } else if (e instanceof Error err) {
            throw err;
        } else if (e != null) {
            throw new RuntimeException(e);
        }
    }
}
