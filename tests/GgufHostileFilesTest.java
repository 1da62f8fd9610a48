import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import llm.Gguf;
import llm.Gguf.ValueType;
import llm.GgufException;
import llm.Phi3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import support.GgufMutator;
import support.GgufWriter;
import support.TestModels;
import support.TinyModels;

/**
 * Regressions for what GgufFuzzTest found, each written out by hand: the file that broke a rule and the
 * exact message it must now give.
 */
class GgufHostileFilesTest {

    @TempDir
    Path dir;

    private String refusal(GgufWriter writer, String name) {
        Path file = writer.write(dir.resolve(name));
        return assertThrows(GgufException.class, () -> Gguf.open(file).close()).getMessage();
    }

    // Found by seed 20261128, case 1428 (a byte of 'llama' := 0A) and ~120 more of the first 10,000 cases: names and
    // values quoted from the file printed their line breaks and control characters raw.

    @Test
    void lineBreaksAndTerminalEscapesInNamesAreShownAsEscapes() {
        String key = "a\nb\u001B[2J"; // 7 bytes: the first entry ends at 24 + 8 + 7 + 4 + 4 = 47
        assertEquals("dup.gguf: duplicate metadata key 'a\\nb\\u001B[2J' at byte 47", refusal(new GgufWriter()
                .rawKeyValue(key, ValueType.UINT32.id(), le32(1))
                .rawKeyValue(key, ValueType.UINT32.id(), le32(2)), "dup.gguf"));
        assertEquals("type.gguf: tensor 'evil\\r\\nname' has unsupported type unknown (ggml type 99)",
                refusal(new GgufWriter().rawTensor("evil\r\nname", 99, new long[] {4}, new byte[16]), "type.gguf"));
    }

    @Test
    void everyGgufExceptionIsOneLine() {
        assertEquals("x.gguf: a\\tb\\r\\nc\\u0000d\\u2028e", new GgufException("x.gguf: a\tb\r\nc\u0000d\u2028e").getMessage());
        assertEquals("plain text stays as it is: é ✓ 🙂", new GgufException("plain text stays as it is: é ✓ 🙂").getMessage());
    }

    @Test
    void theModelQuotesTheArchitectureOnOneLine() {
        Path file = TestModels.builder(TestModels.Variant.F32).architecture("phi3\n\u001B[31mred").write(dir.resolve("arch.gguf"));
        GgufException e = assertThrows(GgufException.class, () -> Phi3.load(file).close());
        assertEquals("arch.gguf: general.architecture is 'phi3\\n\\u001B[31mred', but this engine runs only phi3"
                + " (or llama-style Phi-3) models", e.getMessage());
    }

    // Found by seed 20261128, case 7561: once escaped, a name of 60 NUL bytes made a 321-character message.

    @Test
    void longNamesAreShortenedInMessages() {
        assertEquals("long.gguf: metadata key '" + "k".repeat(60) + "... (10000 characters)' has unknown value type 77",
                refusal(new GgufWriter().rawKeyValue("k".repeat(10_000), 77, new byte[0]), "long.gguf"));
        // escapes count: ten NULs fill the 60 characters; the cut never splits an escape
        assertEquals("nul.gguf: metadata key '" + "\\u0000".repeat(10) + "... (100 characters)' has unknown value type 77",
                refusal(new GgufWriter().rawKeyValue("\0".repeat(100), 77, new byte[0]), "nul.gguf"));
        assertEquals("nul2.gguf: metadata key 'ab" + "\\u0000".repeat(9) + "... (100 characters)' has unknown value type 77",
                refusal(new GgufWriter().rawKeyValue("ab" + "\0".repeat(98), 77, new byte[0]), "nul2.gguf"));
    }

    // Found by seed 20261128 (23 cases of the first 10,000): an element count near 2^62 overflowed the byte count
    // the message gave ("needs at least -8 bytes").

    @Test
    void anArrayTooLargeToCountInBytesSaysSo() {
        byte[] payload = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(ValueType.INT32.id()).putLong(1L << 62).array();
        // header 24, key 8 + 3, value type 4, element type 4, count 8: the elements would start at byte 51
        assertEquals("arr.gguf: metadata key 'big': array of 4611686018427387904 int32 needs more than 2^63 bytes, only 0 left at byte 51",
                refusal(new GgufWriter().rawKeyValue("big", ValueType.ARRAY.id(), payload), "arr.gguf"));
    }

    // Found by seed 20261128, cases 30087, 30871, 41426, 53964, 69405, 80796 and 98169 of a 200,000-case run: a
    // block_count of up to 2^31 - 1 allocated an array of that many blocks before looking for their tensors
    // (an OutOfMemoryError, 128 MB for a 68 KB file, or a 10-second stall).

    @Test
    void aBlockCountTheTensorTableCannotBackIsRefusedBeforeAllocating() throws Exception {
        for (int blocks : new int[] {3, 2_004_555_849, Integer.MAX_VALUE}) {
            Path file = tinyF32With("phi3.block_count", blocks, "blocks.gguf"); // 15 tensors: 2 blocks of 6, embedding, norm, head
            GgufException e = assertThrows(GgufException.class, () -> Phi3.load(file).close());
            assertEquals("blocks.gguf: phi3.block_count is " + blocks + ", but the file has only 15 tensors (a block has at least 6)",
                    e.getMessage());
        }
    }

    // Found by the same run (5 cases): a feed-forward length near 2^31 made the expected width of ffn_up
    // (gate and up: twice that) overflow, and the message said "expected [32, -2147483520]".

    @Test
    void expectedShapesDoNotOverflow() throws Exception {
        Path file = tinyF32With("phi3.feed_forward_length", 1_500_000_000, "ff.gguf");
        GgufException e = assertThrows(GgufException.class, () -> Phi3.load(file).close());
        assertEquals("ff.gguf: tensor 'blk.0.ffn_up.weight' has shape [32, 64], expected [32, 3000000000]", e.getMessage());
    }

    // Found by reading Phi3 after the fuzzer: the architecture and a rope_factors tensor name are quoted from the
    // file, and a crafted file can make them megabytes long.

    @Test
    void longStringsFromTheFileAreShortenedByTheModelToo() {
        Path file = TestModels.builder(TestModels.Variant.F32).architecture("x".repeat(100_000)).write(dir.resolve("long-arch.gguf"));
        GgufException e = assertThrows(GgufException.class, () -> Phi3.load(file).close());
        assertEquals("long-arch.gguf: general.architecture is '" + "x".repeat(60) + "... (100000 characters)', but this engine"
                + " runs only phi3 (or llama-style Phi-3) models", e.getMessage());
    }

    /** TinyModels' F32 file with one uint32 metadata value changed. */
    private Path tinyF32With(String key, int value, String name) throws Exception {
        TinyModels.Model m = TinyModels.build(TinyModels.Variant.F32);
        GgufMutator.Field field = new GgufMutator(m.bytes(), m.layout()).fields().stream()
                .filter(f -> f.what().endsWith("'" + key + "' value")).findFirst().orElseThrow();
        byte[] bytes = m.bytes().clone();
        System.arraycopy(le32(value), 0, bytes, (int) field.offset(), 4);
        return Files.write(dir.resolve(name), bytes);
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
