import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import llm.GgufException;
import llm.Phi3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import support.GgufMutator;
import support.GgufMutator.Mutant;
import support.TinyModels;

/**
 * Hostile model files: a seeded, deterministic fuzzer breaks valid tiny Phi-3 files (support.TinyModels:
 * F32, Q8_0 with grouped-query attention, Q4_0 v2 with a tied head, a K-quant mix, a llama-layout
 * F16/BF16 file) with support.GgufMutator, and each broken file must either load and run one forward
 * step, or be refused with a GgufException whose message is one line that starts with the file's name.
 * Never another exception, an OutOfMemoryError, more memory than the file could justify, a hang, or a
 * crash of the JVM (a read outside the memory map).
 *
 * <p>The first cases truncate every file one byte before, at and after every section boundary; the
 * rest are random. Case {@code n} depends only on the seed and {@code n}, so a failure names both and
 * replays alone: {@code GGUF_FUZZ_SEED=s GGUF_FUZZ_CASE=n ./jbang test GgufFuzzTest}. More cases
 * for a longer local run: {@code GGUF_FUZZ_CASES=200000} (or the system properties gguf.fuzz.seed,
 * gguf.fuzz.cases, gguf.fuzz.case).
 */
class GgufFuzzTest {

    static final long DEFAULT_SEED = 20261128;
    static final int DEFAULT_CASES = 10_000;
    /** A case takes about a millisecond; 10 s allows for a busy machine and a garbage collection, and still catches a hang. */
    static final long CASE_TIME_LIMIT_SECONDS = 10;
    static final String FILE = "fuzz.gguf";
    /** A one-line message fits a terminal line or two; names from the file must be shortened to keep it so. */
    static final int MAX_MESSAGE = 300;

    @TempDir
    Path dir;

    /** A base file and its mutator. */
    record Base(TinyModels.Variant variant, GgufMutator mutator) {}

    /** One case: which base, which mutant. */
    record Case(int number, Base base, Mutant mutant) {
        String describe(long seed) {
            return "seed " + seed + ", case " + number + ", " + base.variant + " (" + base.mutator.size() + " bytes): "
                    + mutant.description();
        }
    }

    @Test
    void brokenModelFilesLoadAndRunOrAreRefusedWithOneLine() throws Exception {
        long seed = setting("GGUF_FUZZ_SEED", "gguf.fuzz.seed", DEFAULT_SEED);
        long cases = setting("GGUF_FUZZ_CASES", "gguf.fuzz.cases", DEFAULT_CASES);
        long only = setting("GGUF_FUZZ_CASE", "gguf.fuzz.case", -1);

        List<Base> bases = new ArrayList<>();
        for (TinyModels.Variant v : TinyModels.Variant.values()) {
            TinyModels.Model m = TinyModels.build(v);
            Base base = new Base(v, new GgufMutator(m.bytes(), m.layout()));
            bases.add(base);
            // the bases themselves are sound: each loads and runs
            Outcome outcome = runBase(m.bytes());
            if (outcome.error != null) throw new AssertionError(v + " does not load", outcome.error);
        }
        List<Case> systematic = new ArrayList<>();
        for (Base b : bases) {
            for (Mutant m : b.mutator.boundaryTruncations()) systematic.add(new Case(systematic.size(), b, m));
        }

        Path work = workDir();
        Path file = work.resolve(FILE);
        Map<String, Integer> reasons = new TreeMap<>();
        Map<String, List<String>> failures = new LinkedHashMap<>(); // kind of failure -> the first few cases
        Map<String, Integer> failureKinds = new LinkedHashMap<>();
        int failureCount = 0, loaded = 0, run = 0, truncations = 0;
        long start = System.nanoTime();
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "gguf-fuzz");
            t.setDaemon(true); // a hung case must not keep the JVM alive
            return t;
        });
        try {
            for (long n = only >= 0 ? only : 0; n < (only >= 0 ? only + 1 : cases); n++) {
                Case c = caseNumber((int) n, seed, bases, systematic);
                if (n < systematic.size()) truncations++;
                if (only >= 0) System.out.println("GGUF fuzz: replaying " + c.describe(seed));
                Files.write(file, c.mutant.bytes());
                Future<Outcome> future = worker.submit(() -> run(file));
                Outcome outcome;
                try {
                    outcome = future.get(CASE_TIME_LIMIT_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    future.cancel(true);
                    failures.computeIfAbsent("hang", k -> new ArrayList<>())
                            .add("no result after " + CASE_TIME_LIMIT_SECONDS + " s\n    at " + c.describe(seed));
                    failureKinds.merge("hang", 1, Integer::sum);
                    failureCount++;
                    break; // the worker is stuck: nothing more can run on it
                } catch (ExecutionException e) {
                    outcome = new Outcome(e.getCause(), 0);
                }
                run++;
                Problem problem = problem(outcome, c.mutant.bytes().length);
                if (problem != null) {
                    failureCount++;
                    failureKinds.merge(problem.kind, 1, Integer::sum);
                    List<String> examples = failures.computeIfAbsent(problem.kind, k -> new ArrayList<>());
                    if (examples.size() < 3) examples.add(problem.detail + "\n    at " + c.describe(seed));
                } else if (outcome.error == null) {
                    loaded++;
                } else {
                    reasons.merge(normalise(outcome.error.getMessage()), 1, Integer::sum);
                }
            }
        } finally {
            worker.shutdownNow();
            Files.deleteIfExists(file);
            if (!work.equals(dir)) Files.deleteIfExists(work);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        StringBuilder summary = new StringBuilder(String.format(
                "GGUF fuzz: seed %d, %d cases (%d truncations at section boundaries) in %.1f s = %.0f cases/s; %d loaded and ran,"
                        + " %d refused with GgufException, %d failures; %d distinct reasons:",
                seed, run, truncations, seconds, run / seconds, loaded, run - loaded - failureCount,
                failureCount, reasons.size()));
        reasons.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEach(e -> summary.append(String.format("%n  %6d  %s", e.getValue(), e.getKey())));
        System.out.println(summary);
        if (failureCount > 0) {
            StringBuilder report = new StringBuilder(failureCount + " of " + run + " cases broke the rules (replay one with GGUF_FUZZ_SEED="
                    + seed + " GGUF_FUZZ_CASE=n ./jbang test GgufFuzzTest):");
            failures.forEach((kind, examples) -> {
                report.append("\n- ").append(kind).append(" (").append(failureKinds.get(kind)).append(" cases), e.g.:");
                for (String e : examples) report.append("\n  ").append(e);
            });
            fail(report.toString());
        }
    }

    /**
     * Where the broken files go: a RAM disk when there is one (rewriting a file 10,000 times on a disk costs
     * more than everything else a case does), else the test's temporary folder.
     */
    private Path workDir() throws IOException {
        Path shm = Path.of("/dev/shm");
        return Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "gguf-fuzz-") : dir;
    }

    /** Case n: a boundary truncation while those last, then a random mutation drawn from (seed, n) alone. */
    static Case caseNumber(int n, long seed, List<Base> bases, List<Case> systematic) {
        if (n < systematic.size()) return systematic.get(n);
        SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + n);
        Base base = bases.get(random.nextInt(bases.size()));
        return new Case(n, base, base.mutator.mutate(random));
    }

    // ---- one case -----------------------------------------------------------------------------------

    /** What a case did: null error = loaded and ran; allocated = bytes the case's thread allocated. */
    record Outcome(Throwable error, long allocated) {}

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Opens the file as a Phi-3 model and runs one token (the last of the vocabulary) through it. */
    static Outcome run(Path file) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        Throwable error = null;
        try (Phi3 model = Phi3.load(file)) {
            int vocab = model.config().vocabSize();
            float[] logits = model.forward(model.newState(), vocab - 1);
            assertEquals(vocab, logits.length, "one logit per vocabulary entry");
        } catch (Throwable e) {
            error = e;
        }
        return new Outcome(error, THREADS.getCurrentThreadAllocatedBytes() - before);
    }

    private Outcome runBase(byte[] bytes) throws IOException {
        Path file = dir.resolve("base.gguf");
        Files.write(file, bytes);
        return run(file);
    }

    /**
     * Memory a case may allocate: the model's buffers and the metadata's Java objects are a small multiple of
     * the file's bytes (a 9-byte string becomes a ~60-byte String), plus a constant for the first case's
     * class loading and thread-local scratch. An allocation sized by an unchecked count is far beyond this.
     */
    static long allocationLimit(long fileLength) {
        return (16L << 20) + 64 * fileLength;
    }

    /** A broken rule: its kind (to group cases) and the details of this case. */
    record Problem(String kind, String detail) {}

    /** Why an outcome breaks the rules, or null. */
    static Problem problem(Outcome outcome, long fileLength) {
        if (outcome.allocated > allocationLimit(fileLength)) {
            return new Problem("allocated more than the file justifies", "allocated " + outcome.allocated + " bytes for a file of "
                    + fileLength + " bytes" + (outcome.error != null ? " (then " + outcome.error + ")" : ""));
        }
        Throwable e = outcome.error;
        if (e == null) return null;
        if (!(e instanceof GgufException)) {
            StackTraceElement[] trace = e.getStackTrace();
            return new Problem(e.getClass().getName() + (trace.length > 0 ? " at " + trace[0] : ""), e + frames(e));
        }
        String message = e.getMessage();
        if (message == null || !message.startsWith(FILE + ": ")) {
            return new Problem("message without the file name", String.valueOf(message));
        }
        for (char ch : message.toCharArray()) {
            if (Character.isISOControl(ch) || ch == '\u2028' || ch == '\u2029') {
                return new Problem("message with a control character (a line break, or a terminal escape)",
                        String.format("U+%04X in: %s", (int) ch, message.replaceAll("[\\p{Cntrl}\u2028\u2029]", "?")));
            }
        }
        if (message.length() > MAX_MESSAGE) {
            return new Problem("message longer than " + MAX_MESSAGE + " characters", message.length() + " characters: "
                    + message.substring(0, 200) + "...");
        }
        return null;
    }

    private static String frames(Throwable e) {
        StringBuilder sb = new StringBuilder();
        StackTraceElement[] trace = e.getStackTrace();
        for (int i = 0; i < Math.min(6, trace.length); i++) sb.append("\n      at ").append(trace[i]);
        return sb.toString();
    }

    /** A message as a reason: the file name, names, numbers and quoted values taken out. */
    static String normalise(String message) {
        return message.substring(FILE.length() + 2)
                .replaceAll("'[^']*'", "'…'")
                .replaceAll("\"[^\"]*\"", "\"…\"")
                .replaceAll("starts with [0-9A-F ]+", "starts with …")
                .replaceAll("unsupported type .* \\(ggml type", "unsupported type … (ggml type")
                .replaceAll("(?<![A-Za-z0-9_]|[A-Za-z]-)\\d+", "N") // keeps UTF-8, Q4_K, float32
                .replaceAll("\\[N(, N)*\\]", "[…]");
    }

    private static long setting(String env, String property, long defaultValue) {
        String v = System.getProperty(property, System.getenv(env));
        return v == null || v.isBlank() ? defaultValue : Long.parseLong(v.trim());
    }
}
