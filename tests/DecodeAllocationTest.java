import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import llm.FloatTensor;
import llm.Phi3;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import support.TestModels;
import support.TestModels.Variant;

/**
 * Decoding allocates nothing per token: after a warm-up, 64 decode steps (the forward pass, its matrix
 * products on two threads, attention, the LM head) allocate no heap memory on the calling thread or on the
 * thread pool. Measured with the JVM's per-thread allocation counters, which count every allocation a
 * thread makes (TLAB refills included), so one array or lambda per step (64 x at least 16 bytes) shows.
 */
class DecodeAllocationTest {

    @AfterEach
    void restoreThreads() {
        FloatTensor.setThreads(Runtime.getRuntime().availableProcessors());
    }

    @ParameterizedTest
    @EnumSource(value = Variant.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M", "GQA", "LLAMA"})
    void decodeStepsAllocateNothing(Variant variant) {
        FloatTensor.setThreads(2);
        try (Phi3 model = Phi3.load(TestModels.shared(variant))) {
            Phi3.State state = model.newState(TestModels.CONTEXT);
            int[] token = {TestModels.FIRST_WORD};
            model.forward(state, TestModels.BOS, TestModels.FIRST_WORD, TestModels.FIRST_WORD + 1);
            // warm-up until the kernels are compiled (the interpreter and C1 allocate their vectors) and the
            // thread-local buffers exist; the prompt stays, the steps are taken back
            for (int round = 0; round < 100; round++) {
                for (int i = 0; i < 50; i++) step(model, state, token);
                state.truncate(3);
            }
            long[] pool = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("llm-parallel-")).mapToLong(Thread::threadId).toArray();
            assertTrue(pool.length > 0, "no pool threads: the products ran on one thread only");
            // The least of five windows of 64 steps: a late JIT recompilation can run a kernel interpreted for
            // a moment (and the interpreter allocates its vectors), but an allocation per token shows in all five.
            long least = Long.MAX_VALUE;
            for (int window = 0; window < 5 && least > 0; window++) {
                state.truncate(3);
                long before = allocatedBytes(pool);
                for (int i = 0; i < 64; i++) step(model, state, token);
                least = Math.min(least, allocatedBytes(pool) - before);
            }
            // the counters themselves may allocate a little (a few hundred bytes), but not 64 x anything
            assertTrue(least < 1024, variant + ": 64 decode steps allocated " + least + " bytes");
        }
    }

    private static void step(Phi3 model, Phi3.State state, int[] token) {
        float[] logits = model.forward(state, token, 0, 1);
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        token[0] = best;
    }

    /** Bytes allocated so far by this thread and by the pool threads with these ids. */
    private static long allocatedBytes(long[] pool) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = threads.getCurrentThreadAllocatedBytes();
        for (long id : pool) sum += threads.getThreadAllocatedBytes(id);
        return sum;
    }
}
