///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 25+
//DESCRIPTION Our Phi-3 engine against llama.cpp on the same file, same threads, same run: load, prefill, decode, RSS.
//DEPS info.picocli:picocli:4.7.7
//DEPS de.kherud:llama:4.2.0
//SOURCES ../lib/llm/Phi3.java
//SOURCES ../lib/llm/FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.LogFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.management.ManagementFactory;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import llm.FloatTensor;
import llm.GgmlType;
import llm.Gguf;
import llm.Phi3;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Side-by-side speed of our engine and llama.cpp (de.kherud:llama, which ships llama.cpp's native library)
 * on one GGUF file with Phi-3-mini's exact shapes. Each measurement runs in a fresh child JVM (so load time
 * and peak RSS belong to one engine), engines alternate, and the table shows medians over the repetitions.
 *
 * <p>Without --model the file is made once (random weights that are valid blocks with sane scales, written
 * as a stream) and cached in ~/.cache/transformer-playground/bench/. Both engines see the same 128 ids: BOS,
 * then 127 one-letter words that llama.cpp's SentencePiece tokenizer maps to one piece each.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Phi-3 speed: our engine vs llama.cpp, same file, same threads, same run.")
public class Benchmark implements Callable<Integer> {

    @Option(names = "--type", paramLabel = "q4_0|q4_k_m|q8_0|f16", defaultValue = "q4_0",
            description = "Weight type of the generated Phi-3-mini-shaped file (default ${DEFAULT-VALUE}); several with commas.")
    String types;

    @Option(names = "--model", paramLabel = "PATH", description = "Benchmark this GGUF file instead of a generated one.")
    Path model;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for both engines (default: all cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--reps", paramLabel = "N", defaultValue = "3", description = "Repetitions per engine (default ${DEFAULT-VALUE}).")
    int reps;

    @Option(names = "--prompt", paramLabel = "TOKENS", defaultValue = "128", description = "Prompt length in tokens, BOS included (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--generate", paramLabel = "TOKENS", defaultValue = "64", description = "New tokens (default ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--engines", paramLabel = "ours,llama.cpp", defaultValue = "ours,llama.cpp", description = "Which engines to run.")
    String engines;

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Option(names = "--jfr-allocations", description = "Record our decode loop with Java Flight Recorder and report every allocation in it.")
    boolean jfrAllocations;

    @Option(names = "--child", hidden = true)
    String child;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Benchmark()).execute(args));
    }

    static final int DIM = 3072, FF = 8192, BLOCKS = 32, HEADS = 32, VOCAB = 32064, CONTEXT = 4096;

    @Override
    public Integer call() throws Exception {
        if (child != null) {
            return runChild();
        }
        List<String> files = new ArrayList<>();
        if (model != null) {
            files.add(model.toString());
        } else {
            for (String t : types.split(",")) files.add(generated(t.trim().toLowerCase(Locale.ROOT)).toString());
        }
        double bandwidth = bandwidth(threads);
        if (!json) System.out.printf(Locale.ROOT, "memory read bandwidth (%d threads): %.1f GB/s%n", threads, bandwidth / 1e9);
        List<Map<String, Object>> all = new ArrayList<>();
        for (String file : files) {
            Map<String, Object> r = measure(Path.of(file), bandwidth);
            all.add(r);
            if (!json) printTable(r);
        }
        if (json) {
            Map<String, Object> root = new LinkedHashMap<>();
            root.put("threads", threads);
            root.put("bandwidthGBs", bandwidth / 1e9);
            root.put("promptTokens", promptTokens);
            root.put("newTokens", newTokens);
            root.put("reps", reps);
            root.put("results", all);
            System.out.println(toJson(root));
        }
        return 0;
    }

    // ---------------------------------------------------------------------------------------------
    // The parent: alternate child runs, medians, table

    static final String[] METRICS = {"loadSeconds", "ttftSeconds", "prefillTokS", "decodeTokS", "peakRssMiB"};

    Map<String, Object> measure(Path file, double bandwidth) throws Exception {
        List<String> names = Arrays.stream(engines.split(",")).map(String::trim).toList();
        Map<String, List<Map<String, Double>>> runs = new LinkedHashMap<>();
        for (String e : names) runs.put(e, new ArrayList<>());
        readIntoPageCache(file);
        for (int rep = 0; rep < reps; rep++) {
            // alternate which engine goes first, so neither always gets the warmer page cache
            List<String> order = new ArrayList<>(names);
            if (rep % 2 == 1) java.util.Collections.reverse(order);
            for (String e : order) {
                if (!json) System.err.printf("  %s %s run %d/%d ...%n", file.getFileName(), e, rep + 1, reps);
                runs.get(e).add(child(e, file));
            }
        }
        long weightBytes;
        try (Gguf g = Gguf.open(file)) {
            weightBytes = 0;
            for (Gguf.TensorInfo t : g.tensors().values())
                if (!t.name().equals("token_embd.weight")) weightBytes += t.byteSize(); // decode reads one embedding row only
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("file", file.toString());
        result.put("fileGB", Files.size(file) / 1e9);
        result.put("decodeRooflineTokS", bandwidth / weightBytes);
        Map<String, Object> medians = new LinkedHashMap<>();
        for (var e : runs.entrySet()) {
            Map<String, Double> m = new LinkedHashMap<>();
            for (String k : METRICS) m.put(k, median(e.getValue().stream().mapToDouble(r -> r.get(k)).toArray()));
            m.put("decodeShareOfRoofline", m.get("decodeTokS") / (bandwidth / weightBytes));
            medians.put(e.getKey(), m);
        }
        result.put("medians", medians);
        result.put("runs", runs);
        return result;
    }

    /**
     * Reads the whole file once, so that it sits in the OS page cache before the runs: both engines map it,
     * and neither should measure the disk (a file read earlier may have been evicted since).
     */
    void readIntoPageCache(Path file) throws IOException {
        if (!json) System.err.printf("  reading %s into the page cache ...%n", file.getFileName());
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (ch.read(buffer.clear()) > 0) { }
        }
    }

    static final String INCUBATOR_WARNING = "WARNING: Using incubator modules: jdk.incubator.vector";

    Map<String, Double> child(String engine, Path file) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // the JVM options of this one, which the lib's //RUNTIME_OPTIONS gave it (the collector among them), as `./jbang phi3` runs
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Benchmark.class.getName(),
                "--child", engine, "--model", file.toString(), "--threads", String.valueOf(threads),
                "--prompt", String.valueOf(promptTokens), "--generate", String.valueOf(newTokens)));
        if (jfrAllocations) cmd.add("--jfr-allocations");
        Process p = new ProcessBuilder(cmd).start();
        // the child's errors reach the user; the JVM's note that the Vector API is incubating, once per child, does not
        Thread errors = Thread.ofVirtual().start(() -> new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))
                .lines().filter(l -> !l.equals(INCUBATOR_WARNING)).forEach(System.err::println));
        String line, result = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            while ((line = r.readLine()) != null) if (line.startsWith("RESULT ")) result = line.substring(7);
        }
        int code = p.waitFor();
        errors.join();
        if (result == null) throw new IllegalStateException(engine + " on " + file + " failed (exit " + code + ")");
        Map<String, Double> m = new LinkedHashMap<>();
        for (String kv : result.split(" ")) {
            String[] parts = kv.split("=");
            m.put(parts[0], Double.parseDouble(parts[1]));
        }
        return m;
    }

    void printTable(Map<String, Object> r) {
        @SuppressWarnings("unchecked") Map<String, Map<String, Double>> med = (Map<String, Map<String, Double>>) r.get("medians");
        System.out.printf(Locale.ROOT, "%n%s (%.2f GB), %d threads, %d-token prompt, %d new tokens, median of %d%n",
                Path.of((String) r.get("file")).getFileName(), (double) r.get("fileGB"), threads, promptTokens, newTokens, reps);
        System.out.printf(Locale.ROOT, "%-22s", "");
        for (String e : med.keySet()) System.out.printf(Locale.ROOT, "%12s", e);
        boolean ratio = med.containsKey("ours") && med.containsKey("llama.cpp");
        if (ratio) System.out.printf(Locale.ROOT, "%16s", "ours/llama.cpp");
        System.out.println();
        String[] labels = {"load (s)", "first token (s)", "prefill (tok/s)", "decode (tok/s)", "peak RSS (MiB)", "decode/roofline"};
        String[] keys = {"loadSeconds", "ttftSeconds", "prefillTokS", "decodeTokS", "peakRssMiB", "decodeShareOfRoofline"};
        for (int i = 0; i < keys.length; i++) {
            System.out.printf(Locale.ROOT, "%-22s", labels[i]);
            for (var m : med.values()) System.out.printf(Locale.ROOT, "%12s", fmt(m.get(keys[i])));
            if (ratio) System.out.printf(Locale.ROOT, "%15.2fx", med.get("ours").get(keys[i]) / med.get("llama.cpp").get(keys[i]));
            System.out.println();
        }
        System.out.printf(Locale.ROOT, "decode roofline (bandwidth / weight bytes per token): %.2f tok/s%n", (double) r.get("decodeRooflineTokS"));
    }

    static String fmt(double v) {
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    // ---------------------------------------------------------------------------------------------
    // The children: one engine, one file, one prompt, then RESULT k=v ...

    /** BOS, then promptTokens - 1 one-letter words: the text llama.cpp gets and the ids we get (see vocabulary()). */
    static String promptText(int tokens) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < tokens - 1; i++) sb.append(i == 0 ? "" : " ").append((char) ('a' + (i * 7) % 26));
        return sb.toString();
    }

    static int[] promptIds(int tokens) {
        int[] ids = new int[tokens];
        ids[0] = 1;
        for (int i = 1; i < tokens; i++) ids[i] = FIRST_WORD + ((i - 1) * 7) % 26;
        return ids;
    }

    int runChild() throws Exception {
        Path file = model;
        double load, ttft, decode;
        long t0 = System.nanoTime();
        if (child.equals("ours")) {
            try (Phi3 m = Phi3.load(file)) {
                FloatTensor.setThreads(threads);
                Phi3.State s = m.newState(promptTokens + newTokens);
                long t1 = System.nanoTime();
                int[] next = {argmax(m.forward(s, promptIds(promptTokens)))};
                jdk.jfr.Recording recording = jfrAllocations ? allocationRecording() : null;
                java.time.Instant wallStart = java.time.Instant.now();
                long[] stepEnds = new long[newTokens]; // nanoTime when each decode step ended (stepEnds[0]: the start)
                long t2 = System.nanoTime();
                stepEnds[0] = t2;
                for (int i = 1; i < newTokens; i++) {
                    next[0] = argmax(m.forward(s, next, 0, 1));
                    stepEnds[i] = System.nanoTime();
                }
                long t3 = System.nanoTime();
                if (recording != null) reportAllocations(recording, wallStart, stepEnds);
                load = (t1 - t0) / 1e9;
                ttft = (t2 - t1) / 1e9;
                decode = (t3 - t2) / 1e9;
            }
        } else if (child.equals("llama.cpp")) {
            PrintStream out = System.out;
            System.setOut(new PrintStream(OutputStream.nullOutputStream())); // its "Extracted ..." line
            try {
                // llama.cpp logs to stdout unless its logger is replaced (BENCH_VERBOSE=1 shows its log on stderr)
                boolean verbose = System.getenv("BENCH_VERBOSE") != null;
                LlamaModel.setLogger(LogFormat.TEXT, (level, message) -> { if (verbose) System.err.print(message); });
            } finally {
                System.setOut(out);
            }
            ModelParameters p = new ModelParameters().setModel(file.toString()).setCtxSize(promptTokens + newTokens + 16)
                    .setThreads(threads).setThreadsBatch(threads);
            if (System.getenv("BENCH_VERBOSE") == null) p.disableLog();
            t0 = System.nanoTime();
            try (LlamaModel m = new LlamaModel(p)) {
                long t1 = System.nanoTime();
                String prompt = promptText(promptTokens);
                int[] ids = m.encode(prompt);
                if (ids.length != promptTokens - 1 || ids[0] != promptIds(promptTokens)[1])
                    throw new IllegalStateException("llama.cpp tokenized the prompt to " + ids.length + " ids, expected " + (promptTokens - 1));
                InferenceParameters ip = new InferenceParameters(prompt).setTemperature(0f).setTopK(1).setSeed(1)
                        .setNPredict(newTokens).setIgnoreEos(true).setCachePrompt(false);
                long t2 = 0;
                long start = System.nanoTime();
                for (LlamaOutput o : m.generate(ip)) if (t2 == 0) t2 = System.nanoTime();
                long t3 = System.nanoTime();
                load = (t1 - t0) / 1e9;
                ttft = (t2 - start) / 1e9;
                decode = (t3 - t2) / 1e9;
            }
        } else {
            throw new IllegalArgumentException("unknown engine " + child + " (ours, llama.cpp)");
        }
        System.out.printf(Locale.ROOT, "RESULT loadSeconds=%.4f ttftSeconds=%.4f prefillTokS=%.4f decodeTokS=%.4f peakRssMiB=%.1f%n",
                load, ttft, promptTokens / ttft, (newTokens - 1) / decode, peakRssKiB() / 1024.0);
        return 0;
    }

    /** Every allocation from now on: each new TLAB and each object allocated outside one (the JVM's own events). */
    static jdk.jfr.Recording allocationRecording() {
        jdk.jfr.Recording r = new jdk.jfr.Recording();
        r.enable("jdk.ObjectAllocationInNewTLAB").withStackTrace();
        r.enable("jdk.ObjectAllocationOutsideTLAB").withStackTrace();
        r.start();
        return r;
    }

    /**
     * Prints on stderr the bytes each decode step allocated on the engine's threads (main and the pool), and
     * where in the engine. The first steps still run code that the JIT has not compiled yet (the interpreter
     * and C1 allocate every vector); what counts is what the later steps allocate.
     */
    static void reportAllocations(jdk.jfr.Recording r, java.time.Instant wallStart, long[] stepEnds) throws IOException {
        r.stop();
        Path file = Files.createTempFile("bench-allocations", ".jfr");
        try {
            r.dump(file);
            int steps = stepEnds.length - 1;
            long[] bytesPerStep = new long[steps];
            Map<String, Long> byPlace = new java.util.TreeMap<>();
            for (jdk.jfr.consumer.RecordedEvent e : jdk.jfr.consumer.RecordingFile.readAllEvents(file)) {
                String thread = e.getThread() == null ? "" : e.getThread().getJavaName();
                if (!thread.equals("main") && !thread.startsWith("llm-parallel-")) continue; // JFR's own threads
                long size = e.hasField("tlabSize") ? e.getLong("tlabSize") : e.getLong("allocationSize");
                long at = stepEnds[0] + java.time.Duration.between(wallStart, e.getStartTime()).toNanos();
                int step = 0;
                while (step < steps - 1 && at > stepEnds[step + 1]) step++;
                bytesPerStep[step] += size;
                var frames = e.getStackTrace() == null ? List.<jdk.jfr.consumer.RecordedFrame>of() : e.getStackTrace().getFrames();
                // the innermost frame of the engine (package llm), where an allocation inside the JDK comes from
                String where = frames.stream().filter(f -> f.getMethod().getType().getName().startsWith("llm."))
                        .map(f -> f.getMethod().getType().getName() + "." + f.getMethod().getName())
                        .findFirst().orElse("(elsewhere)");
                byPlace.merge("step " + (step + 1 <= 8 ? String.valueOf(step + 1) : "9+") + "  " + where, size, Long::sum);
            }
            int clean = 0;
            for (long b : bytesPerStep) if (b == 0) clean++;
            long late = 0;
            for (int i = 8; i < steps; i++) late += bytesPerStep[i];
            System.err.printf(Locale.ROOT, "  JFR allocations: %d of %d decode steps allocated nothing; steps 9-%d allocated %d bytes%n",
                    clean, steps, steps, late);
            byPlace.forEach((where, bytes) -> System.err.printf(Locale.ROOT, "    %s: %d bytes%n", where, bytes));
        } finally {
            r.close();
            Files.deleteIfExists(file);
        }
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static long peakRssKiB() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status")))
            if (l.startsWith("VmHWM:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        return -1;
    }

    // ---------------------------------------------------------------------------------------------
    // Memory read bandwidth: sum 1 GiB of longs with every thread, best of 5 passes

    static double bandwidth(int threads) {
        int perThread = (1 << 27) / threads; // 128 Mi longs = 1 GiB in all
        long[][] parts = new long[threads][perThread];
        for (long[] a : parts) Arrays.fill(a, 1);
        double best = 0;
        for (int pass = 0; pass < 5; pass++) {
            long t0 = System.nanoTime();
            long sum = IntStream.range(0, threads).parallel().mapToLong(t -> sum(parts[t])).sum();
            long t1 = System.nanoTime();
            if (sum != (long) perThread * threads) throw new AssertionError(sum);
            best = Math.max(best, 8.0 * perThread * threads / ((t1 - t0) / 1e9));
        }
        return best;
    }

    static long sum(long[] a) {
        var species = LongVector.SPECIES_PREFERRED;
        LongVector acc = LongVector.zero(species);
        int i = 0;
        for (; i <= a.length - species.length(); i += species.length()) acc = acc.add(LongVector.fromArray(species, a, i));
        long s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < a.length; i++) s += a[i];
        return s;
    }

    // ---------------------------------------------------------------------------------------------
    // The generated file

    static final int FIRST_WORD = 3 + 256 + 1 + 26; // after <unk> <s> </s>, 256 bytes, ▁, a..z: ▁a..▁z

    static Path generated(String type) throws IOException {
        if (!List.of("q4_0", "q4_k_m", "q8_0", "f16").contains(type))
            throw new CommandLine.ParameterException(new CommandLine(new Benchmark()), "--type must be q4_0, q4_k_m, q8_0 or f16, not '" + type + "'");
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "transformer-playground", "bench");
        Path file = dir.resolve("phi3-mini-shapes-random-" + type + ".gguf");
        if (Files.exists(file)) return file;
        Files.createDirectories(dir);
        Path tmp = dir.resolve(file.getFileName() + ".part" + ProcessHandle.current().pid());
        System.err.println("writing " + file + " (once) ...");
        long t0 = System.nanoTime();
        try {
            writeModel(tmp, type);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
        System.err.printf(Locale.ROOT, "  %.1f GB in %.1f s%n", Files.size(file) / 1e9, (System.nanoTime() - t0) / 1e9);
        return file;
    }

    /** The ggml type of each matrix, as llama.cpp's quantize assigns them (Q4_K_M: llama_tensor_get_type). */
    static GgmlType typeOf(String type, String tensor, int layer) {
        return switch (type) {
            case "q8_0" -> GgmlType.Q8_0;
            case "f16" -> GgmlType.F16;
            case "q4_0" -> tensor.equals("output") ? GgmlType.Q6_K : GgmlType.Q4_0;
            default -> switch (tensor) {
                case "output" -> GgmlType.Q6_K;
                case "attn_qkv" -> GgmlType.Q5_K;
                case "ffn_down" -> useMoreBits(layer, BLOCKS) ? GgmlType.Q6_K : GgmlType.Q4_K;
                default -> GgmlType.Q4_K;
            };
        };
    }

    static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    record Tensor(String name, GgmlType type, long[] shape) {
        long bytes() { return type.byteSize(Arrays.stream(shape).reduce(1, (a, b) -> a * b)); }
    }

    static void writeModel(Path path, String type) throws IOException {
        List<Tensor> tensors = new ArrayList<>();
        tensors.add(new Tensor("token_embd.weight", typeOf(type, "token_embd", 0), new long[] {DIM, VOCAB}));
        for (int l = 0; l < BLOCKS; l++) {
            String b = "blk." + l + ".";
            tensors.add(new Tensor(b + "attn_norm.weight", GgmlType.F32, new long[] {DIM}));
            tensors.add(new Tensor(b + "attn_qkv.weight", typeOf(type, "attn_qkv", l), new long[] {DIM, 3 * DIM}));
            tensors.add(new Tensor(b + "attn_output.weight", typeOf(type, "attn_output", l), new long[] {DIM, DIM}));
            tensors.add(new Tensor(b + "ffn_norm.weight", GgmlType.F32, new long[] {DIM}));
            tensors.add(new Tensor(b + "ffn_up.weight", typeOf(type, "ffn_up", l), new long[] {DIM, 2 * FF}));
            tensors.add(new Tensor(b + "ffn_down.weight", typeOf(type, "ffn_down", l), new long[] {FF, DIM}));
        }
        tensors.add(new Tensor("output_norm.weight", GgmlType.F32, new long[] {DIM}));
        tensors.add(new Tensor("output.weight", typeOf(type, "output", 0), new long[] {DIM, VOCAB}));

        Header h = new Header();
        h.u32(0x46554747).u32(3).u64(tensors.size()).u64(0); // key count: patched below
        h.kv("general.architecture").u32(8).str("phi3");
        // (a name with "phi-3" or "phi3" in it makes llama.cpp look for Phi-3's <|endoftext|> piece, which this vocabulary lacks)
        h.kv("general.name").u32(8).str("benchmark: random " + type + " weights in the shapes of a 3.8B model");
        String p = "phi3.";
        for (Object[] kv : new Object[][] {{"context_length", CONTEXT}, {"embedding_length", DIM}, {"feed_forward_length", FF},
                {"block_count", BLOCKS}, {"attention.head_count", HEADS}, {"attention.head_count_kv", HEADS},
                {"rope.dimension_count", DIM / HEADS}, {"attention.sliding_window", 2047}})
            h.kv(p + kv[0]).u32(4).u32((int) kv[1]);
        h.kv(p + "attention.layer_norm_rms_epsilon").u32(6).f32(1e-5f);
        h.kv(p + "rope.freq_base").u32(6).f32(10000f);
        h.kv("tokenizer.ggml.model").u32(8).str("llama");
        List<String> vocab = vocabulary();
        h.kv("tokenizer.ggml.tokens").u32(9).u32(8).u64(vocab.size());
        for (String t : vocab) h.str(t);
        h.kv("tokenizer.ggml.scores").u32(9).u32(6).u64(vocab.size());
        for (int i = 0; i < vocab.size(); i++) h.f32(i < 259 ? 0f : -10f + vocab.get(i).length() - i * 1e-4f);
        h.kv("tokenizer.ggml.token_type").u32(9).u32(5).u64(vocab.size());
        for (int i = 0; i < vocab.size(); i++) h.u32(i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1);
        h.kv("tokenizer.ggml.bos_token_id").u32(4).u32(1);
        h.kv("tokenizer.ggml.eos_token_id").u32(4).u32(2);
        h.kv("tokenizer.ggml.unknown_token_id").u32(4).u32(0);
        h.kv("tokenizer.ggml.add_bos_token").u32(7).u8(1);
        h.kv("tokenizer.ggml.add_eos_token").u32(7).u8(0);
        long offset = 0;
        for (Tensor t : tensors) {
            h.str(t.name).u32(t.shape.length);
            for (long d : t.shape) h.u64(d);
            h.u32(t.type.id()).u64(offset);
            offset = align(offset + t.bytes());
        }
        while (h.buf.position() % 32 != 0) h.u8(0);
        h.buf.putLong(16, h.keys);

        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ch.write(h.buf.flip());
            long seed = 42;
            for (Tensor t : tensors) {
                long bytes = t.bytes(), blocks = bytes / t.type.bytesPerBlock();
                long perChunk = (32 << 20) / t.type.bytesPerBlock();
                for (long first = 0; first < blocks; first += perChunk) {
                    int n = (int) Math.min(perChunk, blocks - first);
                    byte[] chunk = new byte[n * t.type.bytesPerBlock()];
                    fill(chunk, t.type, n, seed++);
                    ByteBuffer bb = ByteBuffer.wrap(chunk);
                    while (bb.hasRemaining()) ch.write(bb);
                }
                long pad = align(bytes) - bytes;
                if (pad > 0) ch.write(ByteBuffer.allocate((int) pad));
            }
        }
    }

    static long align(long x) { return (x + 31) / 32 * 32; }

    /** <unk> <s> </s>, the 256 byte pieces, ▁, a..z, ▁a..▁z (the prompt's words), then filler pieces up to 32064. */
    static List<String> vocabulary() {
        List<String> t = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) t.add(String.format("<0x%02X>", b));
        t.add("▁");
        for (char c = 'a'; c <= 'z'; c++) t.add(String.valueOf(c));
        for (char c = 'a'; c <= 'z'; c++) t.add("▁" + c);
        for (int i = 0; t.size() < VOCAB; i++) t.add("▁w" + i);
        return t;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle SHORTS = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);

    /**
     * n random blocks of the type into chunk, in parallel: random quants, and scales chosen so each
     * weight has a standard deviation near 0.018 (about 1/sqrt(3072)), which keeps activations and logits finite.
     */
    static void fill(byte[] chunk, GgmlType type, int n, long seed) {
        int bpb = type.bytesPerBlock();
        int slices = 64;
        IntStream.range(0, slices).parallel().forEach(s -> {
            SplittableRandom r = new SplittableRandom(seed * 1000 + s);
            int from = (int) ((long) n * s / slices), to = (int) ((long) n * (s + 1) / slices);
            int start = from * bpb, end = to * bpb, i = start;
            for (; i + 8 <= end; i += 8) LONGS.set(chunk, i, r.nextLong());
            for (; i < end; i++) chunk[i] = (byte) r.nextInt();
            for (int b = from; b < to; b++) {
                int at = b * bpb;
                switch (type) {
                    case F32 -> { } // norm weights, set below
                    case F16 -> { // sign, exponent 2^-7 or 2^-6, random mantissa
                        short v = (short) (SHORTS.get(chunk, at));
                        SHORTS.set(chunk, at, (short) ((v & 0x83FF) | ((8 + (v >> 10 & 1)) << 10)));
                    }
                    case Q4_0 -> SHORTS.set(chunk, at, f16(0.003f + 0.002f * r.nextFloat()));
                    case Q8_0 -> SHORTS.set(chunk, at, f16(0.0002f + 0.0001f * r.nextFloat()));
                    case Q4_K -> {
                        float d = 1.2e-4f * (0.8f + 0.4f * r.nextFloat());
                        SHORTS.set(chunk, at, f16(d));
                        SHORTS.set(chunk, at + 2, f16(d * 7.5f));
                    }
                    case Q5_K -> {
                        float d = 6e-5f * (0.8f + 0.4f * r.nextFloat());
                        SHORTS.set(chunk, at, f16(d));
                        SHORTS.set(chunk, at + 2, f16(d * 15.5f));
                    }
                    case Q6_K -> {
                        for (int j = 0; j < 16; j++) chunk[at + 192 + j] = (byte) (1 + (chunk[at + 192 + j] & 15));
                        SHORTS.set(chunk, at + 208, f16(1.2e-4f * (0.8f + 0.4f * r.nextFloat())));
                    }
                    default -> throw new IllegalArgumentException(type.toString());
                }
            }
        });
        if (type == GgmlType.F32) { // norm weights: 1
            ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(filled(n, 1f));
        }
    }

    static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    static short f16(float v) { return Float.floatToFloat16(v); }

    /** The GGUF header and metadata, little-endian, in one growing buffer. */
    static final class Header {
        ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);

        private void room(int n) {
            if (buf.remaining() < n) {
                ByteBuffer b = ByteBuffer.allocate(Math.max(buf.capacity() * 2, buf.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
                b.put(buf.flip());
                buf = b;
            }
        }
        Header u8(int v) { room(1); buf.put((byte) v); return this; }
        Header u32(int v) { room(4); buf.putInt(v); return this; }
        Header u64(long v) { room(8); buf.putLong(v); return this; }
        Header f32(float v) { room(4); buf.putFloat(v); return this; }
        Header str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            room(b.length);
            buf.put(b);
            return this;
        }
        int keys;
        Header kv(String key) { keys++; return str(key); }
    }

    // ---------------------------------------------------------------------------------------------

    static String toJson(Object o) {
        if (o instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            for (var e : m.entrySet()) {
                if (sb.length() > 1) sb.append(',');
                sb.append(toJson(String.valueOf(e.getKey()))).append(':').append(toJson(e.getValue()));
            }
            return sb.append('}').toString();
        }
        if (o instanceof List<?> l) {
            StringBuilder sb = new StringBuilder("[");
            for (Object x : l) {
                if (sb.length() > 1) sb.append(',');
                sb.append(toJson(x));
            }
            return sb.append(']').toString();
        }
        if (o instanceof String s) return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        if (o instanceof Double d) return d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT, "%.6g", d);
        return String.valueOf(o);
    }
}
