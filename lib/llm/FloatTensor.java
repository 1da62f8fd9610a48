//SOURCES GgmlType.java
//SOURCES GgufException.java
//SOURCES Parallel.java
//SOURCES F32Tensor.java
//SOURCES F16Tensor.java
//SOURCES BF16Tensor.java
//SOURCES Q8_0Tensor.java
//SOURCES Q4_0Tensor.java
//SOURCES Q4_KTensor.java
//SOURCES Q5_KTensor.java
//SOURCES Q6_KTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * A tensor of floats stored in one of the ggml formats, read straight from a MemorySegment (the memory
 * map of a GGUF file; never copied to the heap). Element {@code i} is the i-th value in ggml order:
 * rows of {@code shape[0]} elements, one after another.
 *
 * <p>Each subclass knows one block layout: how to decode it ({@link #getFloat}, {@link #dequantize}) and
 * a Vector API kernel for the dot product with a float vector, the one operation a transformer's matrix
 * multiplications need. {@link #dotScalar} is the plain reference the kernels are tested against.
 */
public abstract sealed class FloatTensor
        permits F32Tensor, F16Tensor, BF16Tensor, Q8_0Tensor, Q4_0Tensor, Q4_KTensor, Q5_KTensor, Q6_KTensor {

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;

    /** The float vector shape the kernels use: the CPU's preferred one, at most 512 bits. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.vectorBitSize() > 512
            ? FloatVector.SPECIES_512
            : FloatVector.SPECIES_PREFERRED.length() < 4 ? FloatVector.SPECIES_128 : FloatVector.SPECIES_PREFERRED;
    /** Quantized blocks are loaded 16 bytes at a time and widened to floats in PARTS pieces. */
    static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
    static final int PARTS = 16 / F.length();

    final GgmlType type;
    final MemorySegment data;
    final long[] shape;
    final long size;

    FloatTensor(GgmlType type, MemorySegment data, long[] shape, long size) {
        this.type = type;
        this.data = data;
        this.shape = shape;
        this.size = size;
    }

    /**
     * Wraps {@code data} (exactly the bytes of the tensor) as a tensor of the given type and shape
     * (ggml order: {@code shape[0]} is the row length). IllegalArgumentException when they do not fit together.
     */
    public static FloatTensor of(GgmlType type, MemorySegment data, long[] shape) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(data, "data");
        long[] s = shape.clone();
        long n = 1;
        for (long d : s) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(s));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("element count of shape " + Arrays.toString(s) + " overflows");
            }
        }
        if (s.length > 0 && s[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("row length " + s[0] + " is not a multiple of the " + type
                    + " block size " + type.blockSize());
        }
        long bytes = type.byteSize(n);
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException(type + " " + Arrays.toString(s) + " needs " + bytes + " bytes, got "
                    + data.byteSize());
        }
        return switch (type) {
            case F32 -> new F32Tensor(data, s, n);
            case F16 -> new F16Tensor(data, s, n);
            case BF16 -> new BF16Tensor(data, s, n);
            case Q8_0 -> new Q8_0Tensor(data, s, n);
            case Q4_0 -> new Q4_0Tensor(data, s, n);
            case Q4_K -> new Q4_KTensor(data, s, n);
            case Q5_K -> new Q5_KTensor(data, s, n);
            case Q6_K -> new Q6_KTensor(data, s, n);
        };
    }

    /** Size of the thread pool {@link #matVec} splits its rows over (default: available processors). */
    public static void setThreads(int n) {
        Parallel.setThreads(n);
    }

    public GgmlType type() { return type; }

    /** Number of elements. */
    public long size() { return size; }

    /** Shape in ggml order ({@code shape[0]} = row length); a copy. */
    public long[] shape() { return shape.clone(); }

    /** The dequantized element at {@code index}. */
    public abstract float getFloat(long index);

    /** Decodes block {@code block} ({@code type.blockSize()} elements) into out[outOffset...]. */
    abstract void dequantizeBlock(long block, float[] out, int outOffset);

    /**
     * Kernel: sum over {@code blocks} whole blocks starting at block {@code firstBlock} of element times
     * x[xOffset + ...]. For the one-element-per-block types a "block" is one element.
     */
    abstract float dotBlocks(long firstBlock, float[] x, int xOffset, int blocks);

    /** Decodes elements [offset, offset + n) into out[outOffset...]; the same values {@link #getFloat} gives. */
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        checkRange(offset, n, out, outOffset);
        int bs = type.blockSize();
        float[] tmp = null;
        int i = 0;
        while (i < n) {
            long index = offset + i;
            long block = index / bs;
            int within = (int) (index % bs);
            int take = Math.min(bs - within, n - i);
            if (take == bs) {
                dequantizeBlock(block, out, outOffset + i);
            } else {
                if (tmp == null) {
                    tmp = new float[bs];
                }
                dequantizeBlock(block, tmp, 0);
                System.arraycopy(tmp, within, out, outOffset + i, take);
            }
            i += take;
        }
    }

    /**
     * sum_i this[offset + i] * x[xOffset + i] for i in [0, n), with the Vector API kernel of this type.
     * Whole blocks go through the kernel; a partial block at either end through {@link #dotScalar}.
     */
    public float dot(long offset, float[] x, int xOffset, int n) {
        checkRange(offset, n, x, xOffset);
        int bs = type.blockSize();
        int head = (int) Math.min(n, Math.floorMod(-offset, (long) bs));
        float sum = 0f;
        if (head > 0) {
            sum += dotScalar(offset, x, xOffset, head);
        }
        int blocks = (n - head) / bs;
        if (blocks > 0) {
            sum += dotBlocks((offset + head) / bs, x, xOffset + head, blocks);
        }
        int done = head + blocks * bs;
        if (done < n) {
            sum += dotScalar(offset + done, x, xOffset + done, n - done);
        }
        return sum;
    }

    /**
     * The reference for {@link #dot}: decode with {@link #dequantize}, then multiply and add one element at
     * a time in float, in index order. Same values, no SIMD; only the summation order differs from dot.
     */
    public float dotScalar(long offset, float[] x, int xOffset, int n) {
        checkRange(offset, n, x, xOffset);
        float[] w = new float[Math.min(n, 256)];
        float sum = 0f;
        for (int i = 0; i < n; i += w.length) {
            int len = Math.min(w.length, n - i);
            dequantize(offset + i, w, 0, len);
            for (int j = 0; j < len; j++) {
                sum += w[j] * x[xOffset + i + j];
            }
        }
        return sum;
    }

    /**
     * Matrix-vector product with this tensor seen as {@code rows} rows of {@code cols} elements (from element 0):
     * out[outOffset + r] = dot(r * cols, x, xOffset, cols). Rows are split across the shared thread pool.
     */
    public void matVec(float[] x, int xOffset, float[] out, int outOffset, int rows, int cols) {
        if (rows < 0 || cols < 0 || (long) rows * cols > size) {
            throw new IndexOutOfBoundsException(rows + " x " + cols + " does not fit in " + this);
        }
        Objects.checkFromIndexSize(xOffset, cols, x.length);
        Objects.checkFromIndexSize(outOffset, rows, out.length);
        Parallel.forRange(rows, (from, to) -> {
            for (int r = from; r < to; r++) {
                out[outOffset + r] = dot((long) r * cols, x, xOffset, cols);
            }
        });
    }

    @Override
    public String toString() {
        return type + Arrays.toString(shape);
    }

    final void checkRange(long offset, int n, float[] array, int arrayOffset) {
        Objects.checkFromIndexSize(offset, (long) n, size);
        Objects.checkFromIndexSize(arrayOffset, n, array.length);
    }

    // ---- helpers shared by the kernels ------------------------------------------------------------

    static float f16(MemorySegment data, long byteOffset) {
        return Float.float16ToFloat(data.get(I16_LE, byteOffset));
    }

    static int u8(MemorySegment data, long byteOffset) {
        return data.get(I8, byteOffset) & 0xFF;
    }

    static ByteVector load16(MemorySegment data, long byteOffset) {
        return ByteVector.fromMemorySegment(B16, data, byteOffset, ByteOrder.LITTLE_ENDIAN);
    }

    /** acc + sum over the 16 byte lanes of q (as signed integers) times x[xi...]. */
    static FloatVector fmaBytes(ByteVector q, float[] x, int xi, FloatVector acc) {
        for (int p = 0; p < PARTS; p++) {
            FloatVector qf = (FloatVector) q.convertShape(VectorOperators.B2F, F, p);
            acc = qf.fma(FloatVector.fromArray(F, x, xi + p * F.length()), acc);
        }
        return acc;
    }

    /** acc + sum over the 16 byte lanes of (q * scale) times x[xi...]. */
    static FloatVector fmaBytes(ByteVector q, FloatVector scale, float[] x, int xi, FloatVector acc) {
        for (int p = 0; p < PARTS; p++) {
            FloatVector w = ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).mul(scale);
            acc = w.fma(FloatVector.fromArray(F, x, xi + p * F.length()), acc);
        }
        return acc;
    }

    /** acc + sum over the 16 byte lanes of (q * scale - min) times x[xi...] (negMin = -min). */
    static FloatVector fmaBytes(ByteVector q, FloatVector scale, FloatVector negMin, float[] x, int xi, FloatVector acc) {
        for (int p = 0; p < PARTS; p++) {
            FloatVector w = ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).fma(scale, negMin);
            acc = w.fma(FloatVector.fromArray(F, x, xi + p * F.length()), acc);
        }
        return acc;
    }

    /** The 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes at {@code at} (ggml's get_scale_min_k4). */
    static int kScale(MemorySegment data, long at, int j) {
        return j < 4 ? u8(data, at + j) & 63 : (u8(data, at + j + 4) & 0xF) | ((u8(data, at + j - 4) >> 6) << 4);
    }

    static int kMin(MemorySegment data, long at, int j) {
        return j < 4 ? u8(data, at + j + 4) & 63 : (u8(data, at + j + 4) >> 4) | ((u8(data, at + j) >> 6) << 4);
    }
}
