//SOURCES GgmlType.java
//SOURCES GgufException.java
//SOURCES Parallel.java
//SOURCES Q8Activations.java
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
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A tensor of floats stored in one of the ggml formats, read straight from a MemorySegment (the memory
 * map of a GGUF file; never copied to the heap). Element {@code i} is the i-th value in ggml order:
 * rows of {@code shape[0]} elements, one after another.
 *
 * <p>Each subclass knows one block layout: how to decode it ({@link #getFloat}, {@link #dequantize}) and
 * a Vector API kernel for the dot product with a float vector over whole blocks ({@code dotBlocks}), the one
 * operation a transformer's matrix multiplications need; {@link #dot} runs it and handles partial blocks.
 * {@link #dotScalar} is the plain reference the kernels are tested against. The layouts are ggml's
 * (ggml-common.h), read with little-endian unaligned accesses.
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
    /**
     * Quantized bytes are loaded with as many lanes as F has (8 bytes for 8 floats on AVX2), so widening
     * them is one castShape(F, 0). Kept small and uniform on purpose: C2 boxes vectors (and gets ~25x
     * slower) when a kernel grows past its inlining budget or a conversion's part is not a constant.
     */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.length() * 8)));
    /** Lanes per byte load; equal to F.length() except on 128-bit machines, where PARTS is 2. */
    static final int L = B.length();
    static final int PARTS = L / F.length();

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

    /**
     * The matrix products of {@code n} tokens at once: for b in [0, n), out[outOffset + b*outStride + r] =
     * dot(r * cols, x, xOffset + b*xStride, cols). Each thread takes a share of the rows and runs every token
     * through a row while it is in the cache, so the weights are read from memory once per call, not n times.
     */
    public void matMul(float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride, int rows, int cols, int n) {
        checkMatMul(x, xOffset, xStride, out, outOffset, outStride, rows, cols, n);
        Parallel.forRange(rows, (from, to) -> {
            for (int r = from; r < to; r++) {
                for (int b = 0; b < n; b++) {
                    out[outOffset + b * outStride + r] = dot((long) r * cols, x, xOffset + b * xStride, cols);
                }
            }
        });
    }

    final void checkMatMul(float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride, int rows, int cols, int n) {
        if (rows < 0 || cols < 0 || n < 0 || (long) rows * cols > size) {
            throw new IndexOutOfBoundsException(rows + " x " + cols + " does not fit in " + this);
        }
        if (n > 0) {
            Objects.checkFromIndexSize(xOffset, (long) (n - 1) * xStride + cols, x.length);
            Objects.checkFromIndexSize(outOffset, (long) (n - 1) * outStride + rows, out.length);
        }
    }

    /**
     * This tensor prepared for fast matrix products with rows of {@code cols} elements: Q4_0 and Q8_0 return a
     * tensor that also holds its rows repacked for the integer kernels (a copy the size of the original, made
     * in parallel; the copied pages of the file mapping are handed back to the OS). Other types, shapes the
     * kernels do not take, and machines without 256-bit vectors: this tensor itself.
     */
    public FloatTensor forMatMul(int cols) {
        return this;
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

    /** L bytes at byteOffset. */
    static ByteVector loadBytes(MemorySegment data, long byteOffset) {
        return ByteVector.fromMemorySegment(B, data, byteOffset, ByteOrder.LITTLE_ENDIAN);
    }

    /** The L byte lanes of q, as signed integers, widened to floats: lanes [part * F.length(), ...). */
    static FloatVector widen(ByteVector q, int part) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, F, part);
    }

    /** acc + sum over the L lanes of q times x[xi...]. */
    static FloatVector fmaBytes(ByteVector q, float[] x, int xi, FloatVector acc) {
        if (PARTS == 1) {
            return widen(q, 0).fma(FloatVector.fromArray(F, x, xi), acc);
        }
        for (int p = 0; p < PARTS; p++) {
            acc = widen(q, p).fma(FloatVector.fromArray(F, x, xi + p * F.length()), acc);
        }
        return acc;
    }

    /** Per-thread scratch for the K-quant kernels: a super-block's scales and mins as floats, at [256, 288). */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[256 + 32]);

    static float[] scratch() {
        return SCRATCH.get();
    }

    /**
     * Stores (nibble + 16 * highBits - bias) * scale - min to out[at...] for the L lanes: n is a nibble masked
     * in place, h the high bits masked in place, both XOR 0x80 (see below); nScale = 2^-(nibble's shift),
     * hScale = 16 * 2^-(high bits' shift) (0 without high bits); b = 128 * nScale + 128 * hScale - bias.
     *
     * <p>Byte shifts do not exist on x86, so the kernels use none: a field masked in place and XOR 0x80
     * reads as a signed byte (field << shift) - 128; times 2^-shift it is exact, and so is q, the small
     * integer quant, built with exact fmas. q * scale - min then rounds twice (mul, sub; no fused fma),
     * exactly like the scalar decoders, so the two agree bit for bit.
     *
     * <p>Shape of the K-quant kernels: one call site of this per method, loops around it, every other
     * vector made inside the loop. C2 stops inlining big vector methods, and a vector that crosses a call it
     * did not inline, or that flows through a branch, gets boxed: 10-30x slower.
     */
    static void storeQuant(ByteVector n, ByteVector h, FloatVector nScale, FloatVector hScale, FloatVector b,
                           FloatVector scale, FloatVector min, float[] out, int at) {
        if (PARTS == 1) {
            widen(h, 0).fma(hScale, widen(n, 0).fma(nScale, b)).mul(scale).sub(min).intoArray(out, at);
        } else {
            for (int p = 0; p < PARTS; p++) {
                widen(h, p).fma(hScale, widen(n, p).fma(nScale, b)).mul(scale).sub(min).intoArray(out, at + p * F.length());
            }
        }
    }

    /** A byte field masked in place and XOR 0x80 (see {@link #storeQuant}). */
    static ByteVector field(MemorySegment data, long at, byte mask) {
        return loadBytes(data, at).and(mask).lanewise(VectorOperators.XOR, (byte) 0x80);
    }

    /**
     * A K-quant dot product by decoding each super-block to floats first ({@link #dequantizeBlock}, vector
     * code) and then multiplying. The K-quant kernels use it where a byte load widens to more than one float
     * vector (PARTS &gt; 1: 128-bit machines), which their direct kernels do not handle.
     */
    final float dotViaDecode(long first, float[] x, int xOffset, int blocks) {
        float[] w = new float[256];
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            dequantizeBlock(first + b, w, 0);
            acc = fmaBlock(w, x, xOffset + b * 256, acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** sum over i &lt; 256 of w[i] * x[xi + i]: the second half of a K-quant kernel (decode, then this). */
    static FloatVector fmaBlock(float[] w, float[] x, int xi, FloatVector acc) {
        for (int i = 0; i < 256; i += F.length()) {
            acc = FloatVector.fromArray(F, w, i).fma(FloatVector.fromArray(F, x, xi + i), acc);
        }
        return acc;
    }

    /**
     * The eight (scale, min) pairs of a Q4_K/Q5_K super-block as floats, ds[at + j] = d * scale_j and
     * ms[at + 8 + j] = dmin * min_j, from the 12 packed bytes at {@code packed}. Scalar, once per 256 values.
     */
    static void kScalesMins(MemorySegment data, long packed, float d, float dmin, float[] out, int at) {
        for (int j = 0; j < 8; j++) {
            out[at + j] = d * kScale(data, packed, j);
            out[at + 8 + j] = dmin * kMin(data, packed, j);
        }
    }

    /** The 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes at {@code at} (ggml's get_scale_min_k4). */
    static int kScale(MemorySegment data, long at, int j) {
        return j < 4 ? u8(data, at + j) & 63 : (u8(data, at + j + 4) & 0xF) | ((u8(data, at + j - 4) >> 6) << 4);
    }

    static int kMin(MemorySegment data, long at, int j) {
        return j < 4 ? u8(data, at + j + 4) & 63 : (u8(data, at + j + 4) >> 4) | ((u8(data, at + j) >> 6) << 4);
    }
}
