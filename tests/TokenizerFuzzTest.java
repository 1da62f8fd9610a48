import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import llm.Tokenizer;
import llm.TokenizerException;
import llm.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Broken tokenizer.json files: a small seeded fuzz of the real gpt2 and Phi-3 files we ship (truncations,
 * bit flips, odd bytes, extreme values in the settings before the vocabulary, chunks cut or repeated).
 * Each case either loads (and then encodes and decodes a text without trouble) or is refused with a
 * TokenizerException whose message is one line that names the file. Never another exception, a hang, or a
 * crash in the native (Rust) tokenizers library.
 *
 * <p>A case parses a megabyte of JSON twice (our vocabulary count, then DJL), so the default run is small;
 * {@code TOKENIZER_FUZZ_CASES=500} runs more, {@code TOKENIZER_FUZZ_SEED} picks another seed, and
 * {@code TOKENIZER_FUZZ_CASE=n} replays one case (or the properties tokenizer.fuzz.cases/seed/case).
 */
class TokenizerFuzzTest {

    static final long DEFAULT_SEED = 20261128;
    static final int DEFAULT_CASES = 24;
    static final long CASE_TIME_LIMIT_SECONDS = 60;
    static final List<String> FILES = List.of("gpt2", "microsoft--Phi-3-mini-4k-instruct");
    static final String TEXT = "Hello World! naïve café 日本語 🙂 <|endoftext|> <|user|>\n  def f(x): return x ** 2";

    @TempDir
    Path dir;

    @Test
    void brokenTokenizerFilesLoadOrAreRefusedWithOneLineNamingTheFile() throws Exception {
        long seed = setting("TOKENIZER_FUZZ_SEED", "tokenizer.fuzz.seed", DEFAULT_SEED);
        long cases = setting("TOKENIZER_FUZZ_CASES", "tokenizer.fuzz.cases", DEFAULT_CASES);
        long only = setting("TOKENIZER_FUZZ_CASE", "tokenizer.fuzz.case", -1);
        List<JsonMutator> bases = new ArrayList<>();
        for (String name : FILES) {
            bases.add(new JsonMutator(name, support.Repo.shippedTokenizerJson(name)));
        }
        Path file = Files.createDirectories(dir.resolve("fuzz")).resolve("tokenizer.json");

        Map<String, Integer> reasons = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        int loaded = 0, run = 0;
        long start = System.nanoTime();
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "tokenizer-fuzz");
            t.setDaemon(true);
            return t;
        });
        try {
            for (long n = only >= 0 ? only : 0; n < (only >= 0 ? only + 1 : cases); n++) {
                SplittableRandom random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + n);
                JsonMutator base = bases.get((int) (n % bases.size()));
                JsonMutator.Mutant mutant = base.mutate(random);
                Files.write(file, mutant.bytes());
                String where = "seed " + seed + ", case " + n + ", " + base.name + ": " + mutant.description();
                Future<Throwable> future = worker.submit(() -> loadAndUse(file));
                Throwable error;
                try {
                    error = future.get(CASE_TIME_LIMIT_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    failures.add("no result after " + CASE_TIME_LIMIT_SECONDS + " s at " + where);
                    break;
                } catch (ExecutionException e) {
                    error = e.getCause();
                }
                run++;
                String problem = problem(error, file.toString());
                if (problem != null) {
                    failures.add(problem + "\n    at " + where);
                } else if (error == null) {
                    loaded++;
                } else {
                    reasons.merge(normalise(error.getMessage().substring(file.toString().length() + 2)), 1, Integer::sum);
                }
            }
        } finally {
            worker.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        StringBuilder summary = new StringBuilder(String.format(
                "Tokenizer fuzz: seed %d, %d cases in %.1f s = %.1f cases/s; %d loaded and worked, %d refused with TokenizerException,"
                        + " %d failures; %d distinct reasons:",
                seed, run, seconds, run / seconds, loaded, run - loaded - failures.size(), failures.size(), reasons.size()));
        reasons.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .forEach(e -> summary.append(String.format("%n  %4d  %s", e.getValue(), e.getKey())));
        System.out.println(summary);
        if (!failures.isEmpty()) {
            fail(failures.size() + " cases broke the rules (replay one with TOKENIZER_FUZZ_SEED=" + seed
                    + " TOKENIZER_FUZZ_CASE=n ./jbang test TokenizerFuzzTest):\n" + String.join("\n", failures));
        }
    }

    /** Loads the file by its path (as a user would give it) and, if that works, uses the tokenizer; null when all went well. */
    static Throwable loadAndUse(Path file) {
        try (Tokenizer t = Tokenizers.load(file.toString())) {
            long[] ids = t.encode(TEXT);
            t.decode(ids);
            t.tokens(ids);
            if (t.vocabularyLength() <= 0) throw new AssertionError("vocabulary length " + t.vocabularyLength());
            return null;
        } catch (Throwable e) {
            return e;
        }
    }

    /** Why an outcome breaks the rules, or null. */
    static String problem(Throwable e, String path) {
        if (e == null) return null;
        if (!(e instanceof TokenizerException)) {
            StringBuilder sb = new StringBuilder("threw " + e + " (expected TokenizerException)");
            for (StackTraceElement frame : Arrays.copyOf(e.getStackTrace(), Math.min(6, e.getStackTrace().length))) {
                sb.append("\n      at ").append(frame);
            }
            return sb.toString();
        }
        String message = e.getMessage();
        if (!message.startsWith(path + ": ")) return "message does not start with the file's path: " + message;
        for (char c : message.toCharArray()) {
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                return String.format("message holds control character U+%04X: %s", (int) c, message.replaceAll("\\p{Cntrl}", "?"));
            }
        }
        if (message.length() > path.length() + 240) return "message of " + message.length() + " characters: " + message;
        return null;
    }

    /** A message as a reason: numbers, quoted text and JSON paths taken out. */
    static String normalise(String reason) {
        return reason.replaceAll("path \\$.*?\\)$", "path …)")
                .replaceAll("`[^`]*`", "`…`")
                .replaceAll("'[^']*'", "'…'")
                .replaceAll("\"[^\"]*\"", "\"…\"")
                .replaceAll("(?<![A-Za-z0-9_]|[A-Za-z]-)\\d+", "N");
    }

    private static long setting(String env, String property, long defaultValue) {
        String v = System.getProperty(property, System.getenv(env));
        return v == null || v.isBlank() ? defaultValue : Long.parseLong(v.trim());
    }

    // ---- regressions, on a minimal tokenizer.json (loads in milliseconds) ------------------------------

    static final String MINIMAL = "{\"version\":\"1.0\",\"added_tokens\":[],\"model\":{\"type\":\"WordLevel\","
            + "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2},\"unk_token\":\"<unk>\"},\"pre_tokenizer\":{\"type\":\"Whitespace\"}}";

    private Path write(String name, String json) throws Exception {
        return Files.writeString(dir.resolve(name), json, StandardCharsets.UTF_8);
    }

    private static String refusal(Path file) {
        return assertThrows(TokenizerException.class, () -> Tokenizers.load(file.toString()).close()).getMessage();
    }

    @Test
    void aMinimalTokenizerLoads() throws Exception {
        try (Tokenizer t = Tokenizers.load(write("minimal.json", MINIMAL).toString())) {
            assertEquals(3, t.vocabularyLength());
            assertEquals(List.of(1L, 2L, 0L), Arrays.stream(t.encode("a b c")).boxed().toList());
        }
    }

    // Found while exploring crafted files: one id of 2^31 - 1 made the vocabulary count allocate a 256 MB
    // BitSet (and take seconds).
    @Test
    void aHugeTokenIdCostsNoMoreMemoryThanASmallOne() throws Exception {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Path small = write("small-id.json", MINIMAL);
        Path huge = write("huge-id.json", MINIMAL.replace("\"b\":2", "\"b\":2147483647"));
        Tokenizers.load(small.toString()).close(); // the native library and classes load once
        long before = threads.getCurrentThreadAllocatedBytes();
        Tokenizers.load(small.toString()).close();
        long smallBytes = threads.getCurrentThreadAllocatedBytes() - before;
        before = threads.getCurrentThreadAllocatedBytes();
        try (Tokenizer t = Tokenizers.load(huge.toString())) {
            long hugeBytes = threads.getCurrentThreadAllocatedBytes() - before;
            assertEquals(3, t.vocabularyLength());
            // the old BitSet took 2^31 bits = 256 MB; 16 MB leaves room for anything the JVM does on the side
            assertTrue(hugeBytes < smallBytes + (16 << 20), "allocated " + hugeBytes + " bytes, " + smallBytes + " for a small id");
        }
        assertEquals(dir.resolve("negative.json") + ": not a valid tokenizer.json (negative token id -5)",
                refusal(write("negative.json", MINIMAL.replace("\"b\":2", "\"b\":-5"))));
    }

    // Found while exploring crafted files: Gson's messages quoted a token's control characters raw (an ESC
    // drives the terminal) and advised "Use JsonReader.setStrictness(Strictness.LENIENT)", which is for developers.
    @Test
    void controlCharactersAndParserAdviceStayOutOfTheMessage() throws Exception {
        Path file = write("escape.json", MINIMAL.replace("\"b\":2", "\"\\u001b[2J\":x"));
        assertEquals(file + ": not a valid tokenizer.json (malformed JSON at line 1 column 101 path $.model.vocab.\\u001B[2J)",
                refusal(file));
    }

    // Found while exploring crafted files: a nesting-limit error printed a path of 255 levels.
    @Test
    void longReasonsAreCut() throws Exception {
        Path file = write("deep.json", MINIMAL.replace("\"added_tokens\":[]", "\"truncation\":" + "[".repeat(1000) + "]".repeat(1000)));
        String message = refusal(file);
        assertTrue(message.startsWith(file + ": not a valid tokenizer.json (Nesting limit 255 reached at line 1 column 286 path $.truncation[0][0]"),
                message);
        assertTrue(message.endsWith("...)"), message);
        assertEquals(file.toString().length() + ": not a valid tokenizer.json (".length() + 160 + 1, message.length(), message);
    }

    // Found by the fuzzer (a 300-case run, seed 20261128): a lone surrogate escape in gpt2's decoder settings
    // aborted the JVM inside the native library: tokenizers 0.21 unwraps its parse of the decoder
    // ("panicked at .../tokenizers-0.21.4/src/decoders/mod.rs:90:63 ... aborting"). The same happens for a
    // number beyond a double, a raw control character, nesting deeper than 128 and a truncated decoder. If
    // this test ever regresses, the JVM dies here, with the Rust panic on stderr.
    @Test
    void aDecoderTheNativeLibraryWouldAbortOnIsRefusedFirst() throws Exception {
        String[][] cases = {
            {"{\"type\":\"ByteLevel\",\"x\":\"\\ud800\"}", "decoder: a lone surrogate \\uD800 in a string"},
            {"{\"type\":\"ByteLevel\",\"x\":\"\\udc00a\"}", "decoder: a lone surrogate \\uDC00 in a string"},
            {"{\"type\":\"ByteLevel\",\"x\":1e999}", "decoder: number 1e999 is out of range"},
            {"{\"type\":\"ByteLevel\",\"x\":" + "[".repeat(130) + "]".repeat(130) + "}", "decoder nested more than 100 deep"},
            {"{\"type\":\"ByteLevel\",\"x\":\"a\u0001b\"}", "Unescaped control characters (\\u0000-\\u001F) are not allowed in strict mode at line 1 column 190 path $.decoder.x)"},
        };
        for (String[] c : cases) {
            Path file = write("decoder.json", MINIMAL.replace("}}", "},\"decoder\":" + c[0] + "}"));
            String message = refusal(file);
            assertTrue(message.startsWith(file + ": not a valid tokenizer.json (" + c[1]), message);
        }
        // a sound decoder, surrogate pairs and big but finite numbers included, still loads
        Path fine = write("decoder.json", MINIMAL.replace("}}", "},\"decoder\":{\"type\":\"Fuse\",\"x\":\"\\ud83d\\ude42\",\"y\":1e300}}"));
        try (Tokenizer t = Tokenizers.load(fine.toString())) {
            assertEquals(List.of(1L, 2L), Arrays.stream(t.encode("a b")).boxed().toList());
        }
    }

    // ---- the mutator ---------------------------------------------------------------------------------------

    /**
     * Breaks a tokenizer.json. Half the mutations aim at the part before the vocabulary (added tokens,
     * normalizer, pre-tokenizer, post-processor, decoder, model settings), where a change reaches the most
     * code; the rest land anywhere, which mostly means inside the vocabulary or the merges.
     */
    static final class JsonMutator {
        record Mutant(byte[] bytes, String description) {}

        private static final Pattern SCALAR = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?|true|false|null");
        private static final String[] VALUES = {
            "-1", "0", "2147483647", "4294967296", "99999999999999999999", "1e999", "0.5", "null", "true", "\"\"",
            "\"\\u0000\"", "\"\\ud800\"", "\"a\\nb\\u001b[2J\"", "{}", "[]", "\"Nope\"",
        };
        private static final byte[] BYTES = {'"', '\\', '{', '}', '[', ']', ',', ':', '0', '9', '-', 'n', 0, '\n', 0x1B,
            (byte) 0x80, (byte) 0xFF, (byte) 0xC0};

        final String name;
        private final byte[] valid;
        private final int header; // bytes before "vocab"
        private final List<int[]> scalars = new ArrayList<>(); // byte ranges [start, end) of the scalars in the header

        JsonMutator(String name, byte[] valid) {
            this.name = name;
            this.valid = valid;
            String text = new String(valid, StandardCharsets.UTF_8);
            int vocab = text.indexOf("\"vocab\"");
            String head = text.substring(0, vocab);
            this.header = head.getBytes(StandardCharsets.UTF_8).length;
            Matcher m = SCALAR.matcher(head);
            while (m.find()) {
                int from = head.substring(0, m.start()).getBytes(StandardCharsets.UTF_8).length;
                scalars.add(new int[] {from, from + m.group().getBytes(StandardCharsets.UTF_8).length});
            }
        }

        Mutant mutate(SplittableRandom r) {
            byte[] b = valid.clone();
            int limit = r.nextBoolean() ? header : b.length; // where to aim
            switch (r.nextInt(6)) {
                case 0 -> {
                    int at = r.nextInt(limit);
                    return new Mutant(Arrays.copyOf(b, at), "truncate to " + at + " of " + b.length + " bytes");
                }
                case 1 -> {
                    List<String> flips = new ArrayList<>();
                    for (int i = 1 + r.nextInt(3); i > 0; i--) {
                        int at = r.nextInt(limit), bit = r.nextInt(8);
                        b[at] ^= (byte) (1 << bit);
                        flips.add(at + "." + bit);
                    }
                    return new Mutant(b, "flip bit " + String.join(", ", flips));
                }
                case 2 -> {
                    int at = r.nextInt(limit);
                    b[at] = BYTES[r.nextInt(BYTES.length)];
                    return new Mutant(b, String.format("byte %d := %02X", at, b[at]));
                }
                case 3, 4 -> {
                    int[] s = scalars.get(r.nextInt(scalars.size()));
                    String value = VALUES[r.nextInt(VALUES.length)];
                    byte[] v = value.getBytes(StandardCharsets.UTF_8);
                    byte[] out = new byte[b.length - (s[1] - s[0]) + v.length];
                    System.arraycopy(b, 0, out, 0, s[0]);
                    System.arraycopy(v, 0, out, s[0], v.length);
                    System.arraycopy(b, s[1], out, s[0] + v.length, b.length - s[1]);
                    return new Mutant(out, "value at " + s[0] + " " + new String(b, s[0], s[1] - s[0], StandardCharsets.UTF_8) + " := " + value);
                }
                default -> {
                    int at = r.nextInt(limit), n = 1 + r.nextInt(64);
                    n = Math.min(n, b.length - at);
                    boolean repeat = r.nextBoolean();
                    byte[] out = new byte[repeat ? b.length + n : b.length - n];
                    System.arraycopy(b, 0, out, 0, at + (repeat ? n : 0));
                    System.arraycopy(b, repeat ? at : at + n, out, at + (repeat ? n : 0), b.length - (repeat ? at : at + n));
                    return new Mutant(out, (repeat ? "repeat " : "cut ") + n + " bytes at " + at);
                }
            }
        }
    }
}
