import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import llm.FloatTensor;
import llm.GgmlType;
import llm.Gguf;
import llm.Gguf.ValueType;
import llm.GgufException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import support.GgufWriter;
import support.Quantize;

/** The GGUF reader on well-formed files written by tests/support/GgufWriter: metadata, tensor table, data. */
class GgufTest {

    @TempDir
    Path dir;

    private static final String UNICODE = "héllo ✓ 🙂 世界";

    private static GgufWriter everyValueType() {
        return new GgufWriter()
                .putUint8("u8", 255).putInt8("i8", -128)
                .putUint16("u16", 65535).putInt16("i16", -32768)
                .putUint32("u32", 4_294_967_295L).putInt32("i32", Integer.MIN_VALUE)
                .putUint64("u64", -1L).putInt64("i64", Long.MIN_VALUE)
                .putFloat32("f32", 3.25f).putFloat32("f32.negzero", -0.0f).putFloat64("f64", Math.PI)
                .putBool("yes", true).putBool("no", false)
                .putString("s", UNICODE).putString("empty", "")
                .putArray("a.u8", ValueType.UINT8, List.of(0, 255))
                .putArray("a.i8", ValueType.INT8, List.of(-1, 127))
                .putArray("a.u16", ValueType.UINT16, List.of(65535))
                .putArray("a.i16", ValueType.INT16, List.of(-2, 3))
                .putArray("a.u32", ValueType.UINT32, List.of(4_000_000_000L))
                .putArray("a.i32", new int[] {-7, 0, 7})
                .putArray("a.u64", ValueType.UINT64, List.of(1L << 40))
                .putArray("a.i64", ValueType.INT64, List.of(-5L))
                .putArray("a.f32", new float[] {0.5f, -1.5f})
                .putArray("a.f64", ValueType.FLOAT64, List.of(2.5, -0.125))
                .putArray("a.bool", ValueType.BOOL, List.of(true, false, true))
                .putArray("a.str", "<s>", "", UNICODE, "▁the")
                .putArray("a.empty", ValueType.INT32, List.of())
                .putArray("a.nested", ValueType.ARRAY, List.of(
                        new GgufWriter.Array(ValueType.INT32, List.of(1, 2)),
                        new GgufWriter.Array(ValueType.STRING, List.of("x")),
                        new GgufWriter.Array(ValueType.ARRAY, List.of(new GgufWriter.Array(ValueType.FLOAT32, List.of(9f))))));
    }

    @ParameterizedTest(name = "GGUF v{0}")
    @ValueSource(ints = {2, 3})
    void everyMetadataValueTypeRoundTrips(int version) {
        Path file = everyValueType().version(version).write(dir.resolve("all.gguf"));
        try (Gguf g = Gguf.open(file)) {
            assertEquals(version, g.version());
            Map<String, Object> m = g.metadata();
            // the Java type of each value is the same-width boxed type; unsigned values keep their bits
            assertEquals((byte) -1, m.get("u8"));
            assertEquals(255, g.getInt("u8"));
            assertEquals((byte) -128, m.get("i8"));
            assertEquals(-128, g.getInt("i8"));
            assertEquals((short) -1, m.get("u16"));
            assertEquals(65535, g.getInt("u16"));
            assertEquals(-32768, g.getInt("i16"));
            assertEquals(-1, m.get("u32"));
            assertEquals(4_294_967_295L, g.getLong("u32"));
            assertEquals(Integer.MIN_VALUE, g.getInt("i32"));
            assertEquals(-1L, m.get("u64"));
            assertEquals(Long.MIN_VALUE, g.getLong("i64"));
            assertEquals(3.25f, g.getFloat("f32"));
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(g.getFloat("f32.negzero")));
            assertEquals(Math.PI, g.getDouble("f64"));
            assertEquals(Math.PI, (Double) m.get("f64"));
            assertTrue(g.getBoolean("yes"));
            assertFalse(g.getBoolean("no"));
            assertEquals(UNICODE, g.getString("s"));
            assertEquals("", g.getString("empty"));

            assertArrayEquals(new byte[] {0, -1}, (byte[]) m.get("a.u8"));
            assertArrayEquals(new byte[] {-1, 127}, (byte[]) m.get("a.i8"));
            assertArrayEquals(new short[] {-1}, (short[]) m.get("a.u16"));
            assertArrayEquals(new short[] {-2, 3}, (short[]) m.get("a.i16"));
            assertArrayEquals(new int[] {(int) 4_000_000_000L}, (int[]) m.get("a.u32"));
            assertArrayEquals(new int[] {-7, 0, 7}, g.getInts("a.i32"));
            assertArrayEquals(new long[] {1L << 40}, (long[]) m.get("a.u64"));
            assertArrayEquals(new long[] {-5L}, (long[]) m.get("a.i64"));
            assertArrayEquals(new float[] {0.5f, -1.5f}, g.getFloats("a.f32"));
            assertArrayEquals(new double[] {2.5, -0.125}, (double[]) m.get("a.f64"));
            assertArrayEquals(new boolean[] {true, false, true}, (boolean[]) m.get("a.bool"));
            assertEquals(List.of("<s>", "", UNICODE, "▁the"), g.getStrings("a.str"));
            assertArrayEquals(new int[0], g.getInts("a.empty"));
            List<?> nested = (List<?>) m.get("a.nested");
            assertEquals(3, nested.size());
            assertArrayEquals(new int[] {1, 2}, (int[]) nested.get(0));
            assertEquals(List.of("x"), nested.get(1));
            assertArrayEquals(new float[] {9f}, (float[]) ((List<?>) nested.get(2)).get(0));

            assertEquals(ValueType.UINT32, g.valueType("u32"));
            assertEquals(ValueType.FLOAT64, g.valueType("f64"));
            assertEquals(ValueType.ARRAY, g.valueType("a.u8"));
            assertEquals(ValueType.UINT8, g.arrayType("a.u8"));
            assertEquals(ValueType.STRING, g.arrayType("a.str"));
            assertEquals(ValueType.ARRAY, g.arrayType("a.nested"));
            // file order is kept
            assertEquals(List.of("u8", "i8", "u16", "i16"), m.keySet().stream().limit(4).toList());
            assertTrue(g.tensors().isEmpty());
        }
    }

    @Test
    void gettersNameTheFileAndKeyWhenMissingOrWrongTyped() {
        Path file = everyValueType().write(dir.resolve("m.gguf"));
        try (Gguf g = Gguf.open(file)) {
            assertMessage("m.gguf: metadata key 'nope' is missing", () -> g.getString("nope"));
            assertMessage("m.gguf: metadata key 'nope' is missing", () -> g.getInt("nope"));
            assertMessage("m.gguf: metadata key 'u32' is uint32 4294967295, not a string", () -> g.getString("u32"));
            assertMessage("m.gguf: metadata key 'u32' = uint32 4294967295 does not fit in an int", () -> g.getInt("u32"));
            assertMessage("m.gguf: metadata key 'u64' = uint64 18446744073709551615 does not fit in a long", () -> g.getLong("u64"));
            assertMessage("m.gguf: metadata key 's' is string \"" + UNICODE + "\", not an integer", () -> g.getInt("s"));
            assertMessage("m.gguf: metadata key 's' is string \"" + UNICODE + "\", not a number", () -> g.getFloat("s"));
            assertMessage("m.gguf: metadata key 'f32' is float32 3.25, not a bool", () -> g.getBoolean("f32"));
            assertMessage("m.gguf: metadata key 'a.i32' is an array of int32, not an array of strings", () -> g.getStrings("a.i32"));
            assertMessage("m.gguf: metadata key 'a.str' is an array of string, not an array of float32", () -> g.getFloats("a.str"));
            // defaults apply only to missing keys
            assertEquals(7, g.getInt("nope", 7));
            assertEquals(0.5f, g.getFloat("nope", 0.5f));
            assertEquals("d", g.getString("nope", "d"));
            assertTrue(g.getBoolean("nope", true));
            assertEquals(255, g.getInt("u8", 7));
            assertMessage("m.gguf: metadata key 's' is string", () -> g.getInt("s", 7));
            // integers convert to float, as some writers store e.g. a rope base as an integer
            assertEquals(65535f, g.getFloat("u16"));
            assertTrue(g.has("s"));
            assertFalse(g.has("nope"));
        }
    }

    @Test
    void tensorTableGivesTypeShapeAbsoluteOffsetAndSize() throws Exception {
        Random rnd = new Random(1);
        float[] a = gaussian(rnd, 64 * 3);
        float[] b = gaussian(rnd, 256 * 2);
        float[] c = gaussian(rnd, 32);
        GgufWriter w = new GgufWriter().put("general.architecture", "test")
                .tensor("a.weight", GgmlType.F32, new long[] {64, 3}, a)
                .tensor("b.weight", GgmlType.Q4_K, new long[] {256, 2}, b)
                .tensor("c.weight", GgmlType.Q8_0, new long[] {32}, c);
        Path file = w.write(dir.resolve("t.gguf"));
        GgufWriter.Layout layout = w.layout();
        try (Gguf g = Gguf.open(file)) {
            assertEquals(List.of("a.weight", "b.weight", "c.weight"), List.copyOf(g.tensors().keySet()));
            assertEquals(layout.dataStart(), g.dataStart());
            assertEquals(0, g.dataStart() % 32);
            assertEquals(Files.size(file), g.fileSize());
            assertEquals(file, g.path());

            Gguf.TensorInfo ta = g.tensors().get("a.weight");
            assertEquals(GgmlType.F32, ta.type());
            assertArrayEquals(new long[] {64, 3}, ta.shape());
            assertEquals(192, ta.elementCount());
            assertEquals(192 * 4, ta.byteSize());
            assertEquals(layout.tensorDataStarts()[0], ta.offset());

            Gguf.TensorInfo tb = g.tensors().get("b.weight");
            assertEquals(GgmlType.Q4_K, tb.type());
            assertEquals(2 * 144, tb.byteSize());
            assertEquals(layout.tensorDataStarts()[1], tb.offset());
            assertEquals(0, tb.offset() % 32);

            Gguf.TensorInfo tc = g.tensors().get("c.weight");
            assertArrayEquals(new long[] {32}, tc.shape());
            assertEquals(34, tc.byteSize());

            // the data behind each entry is the data that was written
            FloatTensor fa = g.tensor("a.weight");
            assertEquals(GgmlType.F32, fa.type());
            assertEquals(192, fa.size());
            assertArrayEquals(new long[] {64, 3}, fa.shape());
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], fa.getFloat(i));
            }
            assertArrayEquals(decode(GgmlType.Q4_K, Quantize.q4_K(b), b.length), decode(g.tensor("b.weight")));
            assertArrayEquals(decode(GgmlType.Q8_0, Quantize.q8_0(c), c.length), decode(g.tensor("c.weight")));

            assertMessage("t.gguf: tensor 'output.weight' not found", () -> g.tensor("output.weight"));
        }
    }

    @ParameterizedTest(name = "alignment {0}")
    @ValueSource(ints = {1, 8, 64, 4096})
    void generalAlignmentPlacesTheData(int alignment) {
        Random rnd = new Random(2);
        float[] a = gaussian(rnd, 3);
        float[] b = gaussian(rnd, 32);
        Path file = new GgufWriter().alignment(alignment)
                .tensor("a", GgmlType.F32, new long[] {3}, a)
                .tensor("b", GgmlType.Q8_0, new long[] {32}, b)
                .write(dir.resolve("al.gguf"));
        try (Gguf g = Gguf.open(file)) {
            assertEquals(alignment, g.alignment());
            assertEquals(alignment, g.getInt("general.alignment"));
            assertEquals(0, g.dataStart() % alignment);
            for (Gguf.TensorInfo t : g.tensors().values()) {
                assertEquals(0, (t.offset() - g.dataStart()) % alignment, t.name());
            }
            assertEquals(a[2], g.tensor("a").getFloat(2));
            assertArrayEquals(decode(GgmlType.Q8_0, Quantize.q8_0(b), 32), decode(g.tensor("b")));
        }
    }

    @Test
    void defaultAlignmentIs32() {
        Path file = new GgufWriter().tensor("a", GgmlType.F32, new long[] {1}, new float[] {1f}).write(dir.resolve("d.gguf"));
        try (Gguf g = Gguf.open(file)) {
            assertEquals(32, g.alignment());
            assertFalse(g.has("general.alignment"));
            assertEquals(0, g.dataStart() % 32);
        }
    }

    @Test
    void closeUnmapsTheFile() {
        Path file = new GgufWriter().tensor("a", GgmlType.F32, new long[] {4}, new float[] {1, 2, 3, 4}).write(dir.resolve("c.gguf"));
        Gguf g = Gguf.open(file);
        FloatTensor t = g.tensor("a");
        assertEquals(3f, t.getFloat(2));
        g.close();
        g.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> t.getFloat(2));
        assertThrows(IllegalStateException.class, () -> g.tensor("a"));
    }

    @Test
    void writerLayoutMatchesWhatTheReaderFinds() {
        GgufWriter w = new GgufWriter().put("k", "v").put("n", 3)
                .tensor("a", GgmlType.F16, new long[] {5, 2}, new float[10]);
        byte[] bytes = w.toBytes();
        GgufWriter.Layout l = w.layout();
        assertEquals(24, l.headerEnd());
        assertEquals(24, l.keyValueStarts()[0]);
        assertEquals(l.tensorInfoStarts()[0], l.metadataEnd());
        assertEquals(0, l.dataStart() % 32);
        assertEquals(bytes.length, l.end());
        assertEquals(l.dataStart() + 32, l.end()); // 20 bytes of F16, padded to 32
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    static float[] gaussian(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private static float[] decode(GgmlType type, byte[] bytes, int n) {
        return decode(FloatTensor.of(type, MemorySegment.ofArray(bytes), new long[] {n}));
    }

    private static float[] decode(FloatTensor t) {
        float[] out = new float[(int) t.size()];
        t.dequantize(0, out, 0, out.length);
        return out;
    }

    static void assertMessage(String expectedPart, org.junit.jupiter.api.function.Executable call) {
        Throwable e = assertThrows(Throwable.class, call);
        assertInstanceOf(GgufException.class, e, () -> "expected GgufException, got " + e);
        assertTrue(e.getMessage().contains(expectedPart), () -> "message '" + e.getMessage() + "' lacks '" + expectedPart + "'");
        assertFalse(e.getMessage().contains("\n"), "one line");
    }
}
