import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import llm.FloatTensor;
import llm.GgmlType;
import llm.Gguf;
import llm.Gguf.ValueType;
import llm.GgufException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import support.GgufWriter;

/**
 * Files a loader must refuse: each gives a GgufException whose one-line message starts with the file name
 * and says what is wrong, and never another exception type (no OutOfMemoryError from a length the file
 * cannot hold, no IndexOutOfBounds, no StackOverflowError).
 */
class GgufBadFilesTest {

    @TempDir
    Path tempDir;

    /** Where the cases are written: memory-backed /dev/shm when there is one (15x faster here), else tempDir. */
    private Path dir;

    @BeforeEach
    void pickDirectory() throws IOException {
        Path shm = Path.of("/dev/shm");
        dir = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "gguf-bad-files") : tempDir;
    }

    @AfterEach
    void cleanUp() throws IOException {
        if (!dir.equals(tempDir)) {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    private static final String FILE = "bad.gguf";

    /** A small valid file: a few metadata types and three tensors of different types. */
    private static GgufWriter valid() {
        Random rnd = new Random(3);
        return new GgufWriter()
                .put("general.architecture", "phi3")
                .put("phi3.block_count", 2)
                .putArray("tokenizer.ggml.tokens", "<s>", "</s>", "▁a")
                .putArray("tokenizer.ggml.scores", new float[] {0f, -1f, -2f})
                .tensor("a", GgmlType.F32, new long[] {4, 2}, TensorTypesTest.gaussian(rnd, 8, 1))
                .tensor("b", GgmlType.Q8_0, new long[] {32, 2}, TensorTypesTest.gaussian(rnd, 64, 1))
                .tensor("c", GgmlType.Q4_K, new long[] {256}, TensorTypesTest.gaussian(rnd, 256, 1));
    }

    // ---- not GGUF at all -----------------------------------------------------------------------------

    @Test
    void wrongMagicOrTooShort() {
        byte[] zip = new byte[100];
        zip[0] = 'P';
        zip[1] = 'K';
        zip[2] = 3;
        zip[3] = 4;
        refused(zip, "bad.gguf: not a GGUF file (starts with 50 4B 03 04");
        refused(new byte[0], "bad.gguf: not a GGUF file (only 0 bytes)");
        refused(new byte[] {'G', 'G'}, "bad.gguf: not a GGUF file (only 2 bytes)");
        refused("GGUF".getBytes(), "bad.gguf: truncated at byte 4 of 4 while reading the version");
    }

    @Test
    void unsupportedVersions() {
        refused(valid().version(1).toBytes(), "bad.gguf: unsupported GGUF version 1; this reader supports versions 2 and 3");
        refused(valid().version(4).toBytes(), "bad.gguf: unsupported GGUF version 4");
        refused(valid().version(0x03000000).toBytes(), "(a big-endian file?)");
    }

    @Test
    void missingFileOrDirectory() {
        refused(() -> Gguf.open(dir.resolve("none.gguf")), "none.gguf: file not found");
        refused(() -> Gguf.open(dir), "not a regular file");
    }

    // ---- truncation ----------------------------------------------------------------------------------

    @Test
    void truncatedAtEverySectionBoundaryAndEveryByte() {
        GgufWriter w = valid();
        byte[] bytes = w.toBytes();
        GgufWriter.Layout l = w.layout();
        refused(Arrays.copyOf(bytes, 10), "bad.gguf: truncated at byte 8 of 10 while reading the tensor count");
        refused(Arrays.copyOf(bytes, (int) l.headerEnd()), "bad.gguf: claims 4 metadata entries, impossible in the 0 bytes left after the header");
        refused(Arrays.copyOf(bytes, (int) l.keyValueStarts()[3] + 3), "truncated at byte " + l.keyValueStarts()[3]
                + " of " + (l.keyValueStarts()[3] + 3) + " while reading the length of the key of metadata entry 3");
        long firstToken = l.keyValueStarts()[2] + 8 + "tokenizer.ggml.tokens".length() + 4 + 4 + 8; // its length field
        long thirdToken = firstToken + (8 + 3) + (8 + 4); // after "<s>" and "</s>": "▁a", 4 bytes of UTF-8
        refused(Arrays.copyOf(bytes, (int) thirdToken + 10), "metadata key 'tokenizer.ggml.tokens' element 2: string length 4 at byte "
                + thirdToken + " exceeds the 2 bytes left in the file");
        refused(Arrays.copyOf(bytes, (int) l.metadataEnd()), "while reading the length of the name of tensor 0");
        refused(Arrays.copyOf(bytes, (int) l.tensorInfosEnd() - 4), "while reading the data offset of tensor 'c'");
        refused(Arrays.copyOf(bytes, (int) l.tensorInfosEnd()), l.dataStart() > l.tensorInfosEnd()
                ? "truncated: tensor data would start at byte " + l.dataStart()
                : "tensor 'a' data [" + l.dataStart() + ", " + (l.dataStart() + 32) + ") lies outside the file (" + l.dataStart() + " bytes)");
        refused(Arrays.copyOf(bytes, (int) l.dataStart() - 1), l.dataStart() > l.tensorInfosEnd()
                ? "truncated: tensor data would start at byte " + l.dataStart() : "while reading the data offset of tensor 'c'");
        refused(Arrays.copyOf(bytes, (int) l.tensorDataStarts()[2] + 10), "tensor 'c' data [" + l.tensorDataStarts()[2] + ", "
                + (l.tensorDataStarts()[2] + 144) + ") lies outside the file (" + (l.tensorDataStarts()[2] + 10) + " bytes): the file is truncated");
        // every prefix that ends before the data starts, and a few inside each tensor's data: refused, cleanly
        long lastDataEnd = l.tensorDataStarts()[2] + 144;
        TreeSet<String> reasons = new TreeSet<>();
        for (int n = 0; n < l.dataStart(); n++) {
            reasons.add(refusedReason(Arrays.copyOf(bytes, n)));
        }
        for (long start : l.tensorDataStarts()) {
            for (long n : new long[] {start, start + 1, start + 31}) {
                reasons.add(refusedReason(Arrays.copyOf(bytes, (int) n)));
            }
        }
        reasons.add(refusedReason(Arrays.copyOf(bytes, (int) lastDataEnd - 1)));
        assertTrue(reasons.size() >= 5, "several distinct reasons: " + reasons);
        // the padding after the last tensor is not needed
        open(Arrays.copyOf(bytes, (int) lastDataEnd)).close();
    }

    // ---- counts and lengths the file cannot hold -----------------------------------------------------

    @Test
    void hugeStringLengths() {
        GgufWriter w = valid();
        byte[] bytes = w.toBytes();
        long key0 = w.layout().keyValueStarts()[0];
        refused(patchLong(bytes, key0, -1L), "key of metadata entry 0: string length 18446744073709551615 at byte 24 exceeds the");
        refused(patchLong(bytes, key0, 1L << 40), "string length 1099511627776 at byte 24 exceeds the");
        byte[] noBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 62).array();
        refused(new GgufWriter().rawKeyValue("k", ValueType.STRING.id(), noBytes).toBytes(),
                "metadata key 'k': string length 4611686018427387904 at byte");
    }

    @Test
    void hugeArrayCounts() {
        refused(rawArray(ValueType.INT32.id(), 1L << 61), "metadata key 'k': array of 2305843009213693952 int32 needs ");
        refused(rawArray(ValueType.UINT8.id(), -1L), "array of 18446744073709551615 uint8 needs ");
        refused(rawArray(ValueType.STRING.id(), 1_000_000_000_000L), "array of 1000000000000 string needs at least 8000000000000 bytes");
        refused(rawArray(ValueType.ARRAY.id(), 1L << 40), "array of 1099511627776 array needs at least");
    }

    @Test
    void hugeHeaderCounts() {
        byte[] bytes = valid().toBytes();
        refused(patchLong(bytes, 8, 1L << 40), "bad.gguf: claims 1099511627776 tensors, impossible in the");
        refused(patchLong(bytes, 16, Long.MIN_VALUE), "claims 9223372036854775808 metadata entries, impossible");
    }

    @Test
    void arraysNestedTooDeep() {
        GgufWriter.Array inner = new GgufWriter.Array(ValueType.INT32, List.of(1));
        for (int i = 0; i < 9; i++) {
            inner = new GgufWriter.Array(ValueType.ARRAY, List.of(inner));
        }
        refused(new GgufWriter().putArray("k", ValueType.ARRAY, List.of(inner)).toBytes(), "arrays nested more than 8 deep");
        // 100,000 levels (1.2 MB of array headers): a recursive reader without a limit overflows its stack
        ByteBuffer deep = ByteBuffer.allocate(12 * 100_000).order(ByteOrder.LITTLE_ENDIAN);
        while (deep.hasRemaining()) {
            deep.putInt(ValueType.ARRAY.id()).putLong(1);
        }
        refused(new GgufWriter().rawKeyValue("k", ValueType.ARRAY.id(), deep.array()).toBytes(), "arrays nested more than 8 deep");
    }

    // ---- impossible tensors --------------------------------------------------------------------------

    @Test
    void impossibleOffsets() {
        refused(valid().tensorOffset("b", 1L << 40).toBytes(), "tensor 'b' data [");
        refused(valid().tensorOffset("b", 1L << 40).toBytes(), ") lies outside the file");
        refused(valid().tensorOffset("b", -1L).toBytes(), "tensor 'b' data offset 18446744073709551615 is beyond any file");
        refused(valid().tensorOffset("b", Long.MAX_VALUE - 31).toBytes(), "tensor 'b' data offset 9223372036854775776 is beyond any file");
        refused(valid().tensorOffset("b", 4).toBytes(), "tensor 'b' data offset 4 is not a multiple of the alignment 32");
    }

    @Test
    void impossibleDimensions() {
        refused(oneTensor(GgmlType.F32.id(), new long[] {1, 1, 1, 1, 1}), "tensor 'w' has 5 dimensions (1 to 4 allowed)");
        refused(oneTensor(GgmlType.F32.id(), new long[0]), "tensor 'w' has 0 dimensions");
        refused(oneTensor(GgmlType.F32.id(), new long[] {1L << 32, 1L << 32}), "tensor 'w' has shape [4294967296, 4294967296] whose element count overflows");
        refused(oneTensor(GgmlType.F32.id(), new long[] {Long.MIN_VALUE}), "tensor 'w' dimension 0 is 9223372036854775808, too large");
        refused(oneTensor(GgmlType.F32.id(), new long[] {1L << 31, 1L << 31}), "tensor 'w' F32[2147483648, 2147483648] is too large");
        refused(oneTensor(GgmlType.F32.id(), new long[] {1L << 20, 1L << 20}), "tensor 'w' data [");
        refused(oneTensor(GgmlType.Q8_0.id(), new long[] {33, 2}), "tensor 'w' row length 33 is not a multiple of the Q8_0 block size 32");
    }

    @Test
    void unknownTypes() {
        refused(oneTensor(99, new long[] {32}), "bad.gguf: tensor 'w' has unsupported type unknown (ggml type 99)");
        refused(oneTensor(6, new long[] {32}), "tensor 'w' has unsupported type Q5_0 (ggml type 6)");
        refused(oneTensor(-1, new long[] {32}), "unsupported type unknown (ggml type 4294967295)");
        refused(new GgufWriter().rawKeyValue("k", 13, new byte[8]).toBytes(), "bad.gguf: metadata key 'k' has unknown value type 13");
        refused(rawArray(99, 1), "metadata key 'k' (array element) has unknown value type 99");
    }

    @Test
    void duplicateNames() {
        refused(valid().rawKeyValue("general.architecture", ValueType.STRING.id(), GgufWriter.stringBytes("llama")).toBytes(),
                "bad.gguf: duplicate metadata key 'general.architecture'");
        refused(valid().rawTensor("b", GgmlType.F32.id(), new long[] {1}, new byte[4]).toBytes(), "bad.gguf: duplicate tensor name 'b'");
    }

    @Test
    void stringsThatAreNotUtf8() {
        for (byte[] bad : new byte[][] {{(byte) 0xC3, 0x28}, {(byte) 0xFF}, {(byte) 0xC0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}}) {
            refused(new GgufWriter().rawKeyValue("k", ValueType.STRING.id(), GgufWriter.stringBytes(bad)).toBytes(),
                    "metadata key 'k': string at byte");
            refused(new GgufWriter().rawKeyValue("k", ValueType.STRING.id(), GgufWriter.stringBytes(bad)).toBytes(), "is not valid UTF-8");
        }
        GgufWriter w = valid();
        byte[] bytes = w.toBytes();
        bytes[(int) w.layout().keyValueStarts()[0] + 8] = (byte) 0xFF; // first byte of the first key
        refused(bytes, "the key of metadata entry 0: string at byte 32 is not valid UTF-8");
        bytes = w.toBytes();
        bytes[(int) w.layout().tensorInfoStarts()[1] + 8] = (byte) 0x80; // the name of tensor 1 ("b")
        refused(bytes, "the name of tensor 1: string at byte");
    }

    @Test
    void boolThatIsNeither0Nor1() {
        refused(new GgufWriter().rawKeyValue("flag", ValueType.BOOL.id(), new byte[] {2}).toBytes(),
                "metadata key 'flag': bool at byte");
        refused(new GgufWriter().rawKeyValue("flag", ValueType.BOOL.id(), new byte[] {2}).toBytes(), "is 2, neither 0 nor 1");
    }

    @Test
    void badAlignment() {
        refused(valid().putUint32("general.alignment", 48).toBytes(), "bad.gguf: general.alignment 48 is not a power of two between 1 and 2^30");
        refused(valid().putUint32("general.alignment", 0).toBytes(), "general.alignment 0 is not a power of two");
        refused(valid().putUint64("general.alignment", -1L).toBytes(), "general.alignment 18446744073709551615 is not a power of two");
        refused(valid().put("general.alignment", "32").toBytes(), "general.alignment is string, not an integer");
        // a valid but different alignment than the data was written with: the offsets no longer fit it
        refused(valid().putUint32("general.alignment", 64).toBytes(), "is not a multiple of the alignment 64");
    }

    @Test
    void missingTensor() {
        try (Gguf g = open(valid().toBytes())) {
            refused(() -> g.tensor("output.weight"), "bad.gguf: tensor 'output.weight' not found");
        }
    }

    // ---- every single-byte corruption ----------------------------------------------------------------

    @Test
    void everySingleByteCorruptionLoadsOrIsRefusedCleanly() {
        // the header, metadata and tensor table (corrupted tensor data still parses: it is only numbers), plus
        // the first bytes of each tensor's data (fp16 scales become NaN or huge: the kernels must still run)
        GgufWriter w = valid();
        byte[] good = w.toBytes();
        int loaded = 0, refusedCount = 0, cases = 0;
        TreeSet<String> reasons = new TreeSet<>();
        for (int pos = 0; pos < good.length; pos++) {
            int p = pos;
            if (pos >= w.layout().dataStart() && Arrays.stream(w.layout().tensorDataStarts()).noneMatch(s -> p >= s && p < s + 4)) {
                continue;
            }
            for (int value : new int[] {0xFF, good[pos] ^ 0x01}) {
                cases++;
                byte[] bad = good.clone();
                bad[pos] = (byte) value;
                Path file = write(bad);
                try (Gguf g = Gguf.open(file)) {
                    // it loaded: then every tensor must be usable
                    for (String name : g.tensors().keySet()) {
                        FloatTensor t = g.tensor(name);
                        float[] all = new float[(int) t.size()];
                        t.dequantize(0, all, 0, all.length);
                        int cols = (int) Math.min(t.shape()[0], t.size()); // a corrupted dimension can be 0
                        t.dot(0, new float[cols], 0, cols);
                    }
                    loaded++;
                } catch (GgufException e) {
                    assertTrue(e.getMessage().startsWith(FILE + ": "), e.getMessage());
                    assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
                    reasons.add(e.getMessage().replaceAll("[0-9]+", "N").replaceAll("'[^']*'", "'X'"));
                    refusedCount++;
                } catch (Throwable e) {
                    fail("byte " + pos + " set to " + value + ": " + e, e);
                }
            }
        }
        assertEquals(cases, loaded + refusedCount);
        assertTrue(loaded > 0 && refusedCount > 0, loaded + " loaded, " + refusedCount + " refused");
        assertTrue(reasons.size() >= 10, "distinct reasons: " + reasons);
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    private Path write(byte[] bytes) {
        try {
            return Files.write(dir.resolve(FILE), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Gguf open(byte[] bytes) {
        return Gguf.open(write(bytes));
    }

    private void refused(byte[] bytes, String expectedPart) {
        Path file = write(bytes);
        refused(() -> Gguf.open(file).close(), expectedPart);
    }

    private static void refused(org.junit.jupiter.api.function.Executable open, String expectedPart) {
        GgufTest.assertMessage(expectedPart, open);
    }

    /** The message of the GgufException the bytes give; fails on success or on any other exception. */
    private String refusedReason(byte[] bytes) {
        Path file = write(bytes);
        try (Gguf g = Gguf.open(file)) {
            fail(bytes.length + " bytes loaded: " + g);
            return null;
        } catch (GgufException e) {
            assertTrue(e.getMessage().startsWith(FILE + ": ") && !e.getMessage().contains("\n"), e.getMessage());
            return e.getMessage().replaceAll("[0-9]+", "N");
        }
    }

    private static byte[] rawArray(int elementType, long count) {
        byte[] payload = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(elementType).putLong(count).array();
        return new GgufWriter().rawKeyValue("k", ValueType.ARRAY.id(), payload).toBytes();
    }

    private static byte[] oneTensor(int typeId, long[] dims) {
        return new GgufWriter().rawTensor("w", typeId, dims, new byte[64]).toBytes();
    }

    private static byte[] patchLong(byte[] bytes, long at, long value) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putLong((int) at, value);
        return copy;
    }
}
