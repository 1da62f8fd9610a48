import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import llm.FloatTensor;
import llm.Phi3;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import support.TestModels;
import support.TestModels.Variant;

/**
 * Decoding allocates nothing per token: after a warm-up, 64 decode steps (the forward pass, its matrix
 * products on two threads, attention, the LM head) allocate no heap memory on the calling thread or on the
 * thread pool. Measured with the JVM's per-thread allocation counters, which count every allocation a
 * thread makes (TLAB refills included), so one array or lambda per step (64 x at least 16 bytes) shows.
 *
 * <p>Each model runs in a JVM of its own, as {@code ./jbang phi3} does: in a JVM that has run the other
 * few hundred tests, the JIT compiles the kernels under their profiles (other types, other shapes, the
 * scalar references) and sometimes leaves a kernel boxing its vectors.
 */
class DecodeAllocationTest {

    @ParameterizedTest
    @EnumSource(value = Variant.class, names = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M", "GQA", "LLAMA"})
    void decodeStepsAllocateNothing(Variant variant) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments()); // the lib's //RUNTIME_OPTIONS
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), DecodeAllocationTest.class.getName(),
                TestModels.shared(variant).toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor(), output);
        String least = output.lines().filter(l -> l.startsWith("least allocated: ")).findFirst()
                .orElseThrow(() -> new AssertionError("no result in: " + output)).substring("least allocated: ".length());
        // the counters themselves may allocate a little (a few hundred bytes), but not 64 x anything
        assertTrue(Long.parseLong(least) < 1024, variant + ": 64 decode steps allocated " + least + " bytes");
    }

    /** The measurement, in its own JVM: prints the least bytes that five windows of 64 decode steps allocated. */
    public static void main(String[] args) {
        FloatTensor.setThreads(2);
        try (Phi3 model = Phi3.load(Path.of(args[0]))) {
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
            if (pool.length == 0) throw new IllegalStateException("no pool threads: the products ran on one thread only");
            // The least of ten windows, each after a pause that lets the JIT's background compilations finish:
            // code still waiting to be compiled allocates for a while, an allocation per token in all ten.
            long least = Long.MAX_VALUE;
            for (int window = 0; window < 10 && least > 0; window++) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                state.truncate(3);
                long before = allocatedBytes(pool);
                for (int i = 0; i < 64; i++) step(model, state, token);
                least = Math.min(least, allocatedBytes(pool) - before);
            }
            System.out.println("least allocated: " + least);
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
