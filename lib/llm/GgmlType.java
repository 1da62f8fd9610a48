//SOURCES GgufException.java
package llm;

import java.util.Optional;

/**
 * The ggml tensor types this playground can read, with ggml's type ids and block geometry
 * (elements per block, bytes per block), as in ggml.h / ggml-common.h.
 */
public enum GgmlType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 2 + 16),             // fp16 d, 16 bytes of nibbles
    Q8_0(8, 32, 2 + 32),             // fp16 d, 32 int8
    Q4_K(12, 256, 2 + 2 + 12 + 128), // fp16 d, fp16 dmin, 12 bytes 6-bit scales/mins, 128 bytes nibbles
    Q5_K(13, 256, 2 + 2 + 12 + 32 + 128), // as Q4_K plus 32 bytes of high bits
    Q6_K(14, 256, 128 + 64 + 16 + 2), // ql, qh, int8 scales, fp16 d
    BF16(30, 1, 2);

    private final int id;
    private final int blockSize;
    private final int bytesPerBlock;

    GgmlType(int id, int blockSize, int bytesPerBlock) {
        this.id = id;
        this.blockSize = blockSize;
        this.bytesPerBlock = bytesPerBlock;
    }

    /** ggml's numeric type id, as stored in a GGUF tensor table. */
    public int id() { return id; }

    /** Elements per block (1 for the float types). */
    public int blockSize() { return blockSize; }

    /** Bytes per block. */
    public int bytesPerBlock() { return bytesPerBlock; }

    /** Bytes needed for {@code elements} values (a multiple of the block size); ArithmeticException on overflow. */
    public long byteSize(long elements) {
        if (elements < 0 || elements % blockSize != 0) {
            throw new IllegalArgumentException(elements + " elements is not a whole number of " + this + " blocks");
        }
        return Math.multiplyExact(elements / blockSize, (long) bytesPerBlock);
    }

    /** The supported type with this id; GgufException naming the id (and ggml's name for it) otherwise. */
    public static GgmlType fromId(int id) {
        return byId(id).orElseThrow(() -> new GgufException("unsupported tensor type " + describe(id)));
    }

    /** The supported type with this id, if any. */
    public static Optional<GgmlType> byId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** "Q5_0 (ggml type 6)", or "unknown (ggml type 99)": for messages about types we refuse. */
    public static String describe(int id) {
        String name = id >= 0 && id < GGML_NAMES.length && GGML_NAMES[id] != null ? GGML_NAMES[id] : "unknown";
        return name + " (ggml type " + Integer.toUnsignedString(id) + ")";
    }

    // ggml's names for every type id it has used, so a refusal can say what the file holds.
    private static final String[] GGML_NAMES = {
        "F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)", "Q5_0", "Q5_1", "Q8_0", "Q8_1",
        "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
        "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M",
        "BF16", "Q4_0_4_4 (removed)", "Q4_0_4_8 (removed)", "Q4_0_8_8 (removed)", "TQ1_0", "TQ2_0",
        "IQ4_NL_4_4 (removed)", "IQ4_NL_4_8 (removed)", "IQ4_NL_8_8 (removed)", "MXFP4", "NVFP4", "Q1_0",
    };
}
