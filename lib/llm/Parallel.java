package llm;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One fixed pool of daemon threads shared by the whole lib, for splitting a range of independent work
 * (the rows of a matrix-vector product) across cores; the calling thread takes a share itself.
 *
 * <p>The decoding loop calls this a few hundred times per token, so a call allocates nothing: the caller
 * writes the work into fields and offers each worker its part (a volatile write); an idle worker spins
 * for a moment and then parks, and the caller unparks only the workers that parked. When the caller is
 * done with its own part it takes back the parts no worker has started yet (on a busy machine a worker
 * may not get a core for a while) and runs them itself.
 *
 * <p>One call at a time uses the pool. A call that finds it busy (from another thread, or nested inside a
 * task) runs its whole range inline on its own thread instead of waiting: that is correct, never blocks,
 * and the cores are busy with the other call anyway. A call from inside a pool thread runs inline too.
 */
public final class Parallel {

    /** Work on the half-open range [from, to). */
    @FunctionalInterface
    public interface RangeTask {
        void run(int from, int to);
    }

    /**
     * How long a waiting thread spins before it parks. The decoding loop calls again within microseconds,
     * while waking a parked thread takes tens of microseconds.
     */
    private static final long SPIN_NANOS = 50_000;

    private static volatile int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    private static volatile Pool pool;

    private Parallel() {}

    /** Number of threads (including the caller) that {@link #forRange} and {@link #forTiles} use. */
    public static int threads() {
        return threads;
    }

    /** Sets the number of threads (at least 1); the old pool's threads finish their work and end. */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be at least 1, got " + n);
        }
        if (n != threads) {
            threads = n;
            Pool old = pool;
            pool = null;
            if (old != null) {
                old.retire();
            }
        }
    }

    /**
     * Runs task over [0, n), split into one contiguous chunk per thread (chunk c is
     * [n*c/chunks, n*(c+1)/chunks)); the caller runs chunk 0. Returns when all chunks are done.
     */
    public static void forRange(int n, RangeTask task) {
        if (n <= 0) {
            return;
        }
        Pool claimed = n > 1 ? claimPool() : null;
        if (claimed == null) {
            task.run(0, n);
            return;
        }
        claimed.run(task, n, Math.min(claimed.size(), n), 0);
    }

    /**
     * Runs task over [0, n) in tiles of {@code tile} indices that the threads (the caller too) take one
     * after another from a shared counter, as llama.cpp's threads do: on a busy machine a thread that gets
     * less CPU time takes fewer tiles instead of keeping the others waiting. Returns when all are done.
     */
    public static void forTiles(int n, int tile, RangeTask task) {
        if (tile < 1) {
            throw new IllegalArgumentException("tile must be at least 1, got " + tile);
        }
        if (n <= 0) {
            return;
        }
        Pool claimed = n > tile ? claimPool() : null;
        if (claimed == null) { // one thread, or called from a worker: the same tiles, in order
            for (int from = 0; from < n; from += tile) task.run(from, Math.min(n, from + tile));
            return;
        }
        int tiles = (int) (((long) n + tile - 1) / tile);
        claimed.run(task, n, Math.min(claimed.size(), tiles), tile);
    }

    /** The pool, reserved for this call; null when the call should run inline. */
    private static Pool claimPool() {
        if (Thread.currentThread() instanceof Worker) {
            return null;
        }
        Pool p = pool;
        if (p == null) {
            if (threads == 1) {
                return null;
            }
            p = startPool();
        }
        return p != null && p.state.compareAndSet(Pool.IDLE, Pool.BUSY) ? p : null;
    }

    private static synchronized Pool startPool() {
        if (pool == null && threads > 1) {
            pool = new Pool(threads);
        }
        return pool;
    }

    /** The worker threads for one pool size, and the call they are working on. */
    private static final class Pool {
        static final int IDLE = 0, BUSY = 1, RETIRED = 2;

        final AtomicInteger state = new AtomicInteger(IDLE); // BUSY during a call; RETIRED once setThreads replaced it
        final Worker[] workers;
        final AtomicInteger pending = new AtomicInteger(); // parts 1.. of this call not yet done
        final AtomicInteger nextTile = new AtomicInteger();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        volatile boolean callerParked;
        volatile boolean stopped;

        // The call in progress, written by the caller before Worker.offer's volatile write publishes it.
        RangeTask task;
        int n;
        int parts; // chunks (forRange) or threads taking tiles (forTiles)
        int tile;  // 0 for forRange
        int tiles;
        Thread caller;

        Pool(int size) {
            workers = new Worker[size - 1];
            for (int w = 0; w < workers.length; w++) {
                workers[w] = new Worker(this, w + 1);
            }
            for (Worker worker : workers) {
                worker.start();
            }
        }

        int size() {
            return workers.length + 1;
        }

        /** Runs one call that claimed this pool: offers part p to worker p, runs part 0, waits. */
        void run(RangeTask task, int n, int parts, int tile) {
            this.task = task;
            this.n = n;
            this.parts = parts;
            this.tile = tile;
            this.tiles = tile == 0 ? 0 : (int) (((long) n + tile - 1) / tile);
            nextTile.set(0);
            caller = Thread.currentThread();
            pending.set(parts - 1);
            for (int p = 1; p < parts; p++) {
                workers[p - 1].offer();
            }
            runPart(0);
            for (int p = 1; p < parts; p++) {
                if (workers[p - 1].take()) { // no worker started it: the caller runs it
                    runPart(p);
                    pending.decrementAndGet();
                }
            }
            awaitWorkers();
            Throwable failure = error.getAndSet(null);
            this.task = null; // don't keep the task (and the arrays it holds) alive between calls
            if (!state.compareAndSet(BUSY, IDLE)) {
                stop(); // setThreads retired this pool during the call
            }
            rethrow(failure);
        }

        /** Part p of the call: chunk p of forRange, or tiles from the shared counter until none are left. */
        void runPart(int p) {
            try {
                if (tile == 0) {
                    task.run(chunkStart(p), chunkStart(p + 1));
                } else {
                    for (int t; (t = nextTile.getAndIncrement()) < tiles; ) {
                        int from = t * tile;
                        task.run(from, (int) Math.min(n, (long) from + tile));
                    }
                }
            } catch (Throwable e) {
                error.compareAndSet(null, e);
            }
        }

        private int chunkStart(int c) {
            return (int) ((long) n * c / parts);
        }

        void partDone() {
            if (pending.decrementAndGet() == 0 && callerParked) {
                LockSupport.unpark(caller);
            }
        }

        private void awaitWorkers() {
            boolean interrupted = false;
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (pending.get() != 0) {
                if (System.nanoTime() - spinUntil < 0) {
                    Thread.onSpinWait();
                    continue;
                }
                callerParked = true;
                if (pending.get() != 0) {
                    LockSupport.park(this);
                }
                callerParked = false;
                // An interrupt makes park return at once; the chunks still use the caller's arrays: keep waiting.
                interrupted |= Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        /** Called once by setThreads: the workers end now, or after the call in progress. */
        void retire() {
            if (state.getAndSet(RETIRED) == IDLE) {
                stop();
            }
        }

        private void stop() {
            stopped = true;
            for (Worker worker : workers) {
                LockSupport.unpark(worker);
            }
        }

        private static void rethrow(Throwable e) {
            if (e instanceof RuntimeException re) {
                throw re;
            } else if (e instanceof Error err) {
                throw err;
            } else if (e != null) {
                throw new RuntimeException(e);
            }
        }
    }

    private static final class Worker extends Thread {
        private final Pool pool;
        private final int part;
        private final AtomicBoolean offered = new AtomicBoolean(); // part `part` of the call waits to be taken
        private volatile boolean parked;

        Worker(Pool pool, int part) {
            super("llm-parallel-" + part);
            setDaemon(true);
            this.pool = pool;
            this.part = part;
        }

        void offer() {
            offered.set(true);
            if (parked) {
                LockSupport.unpark(this);
            }
        }

        /** Takes the offered part: the worker and the caller may both try, exactly one gets it. */
        boolean take() {
            return offered.compareAndSet(true, false);
        }

        @Override
        public void run() {
            while (awaitOffer()) {
                if (take()) {
                    pool.runPart(part);
                    pool.partDone();
                }
            }
        }

        /** Spins a little, then parks, until a part is offered (true) or the pool stops (false). */
        private boolean awaitOffer() {
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (true) {
                if (offered.get()) {
                    return true;
                }
                if (pool.stopped) {
                    return false;
                }
                if (System.nanoTime() - spinUntil < 0) {
                    Thread.onSpinWait();
                    continue;
                }
                // Set parked before the last look at offered, so that offer either sees it or is seen.
                parked = true;
                if (!offered.get() && !pool.stopped) {
                    LockSupport.park(this);
                }
                parked = false;
                Thread.interrupted(); // a stray interrupt would make every park return at once
            }
        }
    }
}
