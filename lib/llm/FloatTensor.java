//SOURCES GgmlType.java
//SOURCES GgufException.java
//SOURCES Parallel.java
//SOURCES Attention.java
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
//RUNTIME_OPTIONS -XX:CompileCommand=quiet -XX:CompileCommand=inline,llm.FloatTensor::loadBytes -XX:CompileCommand=inline,llm.FloatTensor::widen -XX:CompileCommand=inline,llm.FloatTensor::fmaBytes -XX:CompileCommand=inline,llm.FloatTensor::field -XX:CompileCommand=inline,llm.FloatTensor::storeQuant -XX:CompileCommand=inline,llm.FloatTensor::kScalesMins16 -XX:CompileCommand=inline,llm.Q8_0Tensor::blockTimesX
package llm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
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
    static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
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
    /** Ints with as many lanes as F: a byte load widens to PARTS of these. */
    static final VectorSpecies<Integer> I = F.withLanes(int.class);
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

    /**
     * Rows longer than this many elements go through a type's kernel four at a time when it has such a
     * kernel ({@link #dotBlocks4}). x, 4 bytes per element, then no longer fits in a 32 KB L1 data cache
     * beside the weights streaming through it, and a kernel that reads a row at a time reads x from L2
     * once per row: Phi-3's down projection (rows of 8192) ran at about half the speed of its 3072-wide
     * matrices that way.
     */
    static final int LONG_ROW = 4096;

    /**
     * {@link #dotBlocks} on four rows of {@code blocks} blocks each, one after another from block firstBlock:
     * out[outOffset + k] = dotBlocks(firstBlock + k * blocks, x, xOffset, blocks), within rounding (an
     * override may add in another order). Types whose kernel reads the rows side by side, each x vector
     * loaded once for all four, override it; the matrix product calls it only for rows longer than LONG_ROW,
     * with its thread's scratch (see {@link #dotRow}).
     */
    void dotBlocks4(long firstBlock, int blocks, float[] x, int xOffset, float[] out, int outOffset, float[] scratch) {
        for (int k = 0; k < 4; k++) out[outOffset + k] = dotRow(firstBlock + (long) k * blocks, x, xOffset, blocks, null, scratch);
    }

    /**
     * Whether this type's kernel reads the sums of x over each sub-block of 32 ({@link #subBlockSums}):
     * Q4_K and Q5_K subtract min_j * sum(x over sub-block j), and a matrix-vector product computes those
     * sums once for all its rows instead of once per row.
     */
    boolean takesSubBlockSums() {
        return false;
    }

    /**
     * {@link #dotBlocks} on one row of whole blocks, as a matrix product runs it: with the sums of x from
     * {@link #subBlockSums} when the type takes them (else null), and the calling thread's
     * {@link #scratch}, which the product fetches once per tile of rows: in JFR profiles of decoding, a
     * ThreadLocal lookup per row took 14% of a fast run's samples and 89% of a slow one's.
     */
    float dotRow(long firstBlock, float[] x, int xOffset, int blocks, float[] xSums, float[] scratch) {
        return dotBlocks(firstBlock, x, xOffset, blocks);
    }

    /**
     * The sums of x[xOffset ..+ 256 * superBlocks) over each run of 32, 16 floats per super-block b:
     * out[16 b + j] = 0 and out[16 b + 8 + j] = sum of sub-block j, lined up with the 8 scales and 8 mins
     * of {@link #kScalesMins16}, so that one multiply-add of the two vectors gives a super-block's mins
     * times sums. Returns out, or a new array when out is too short.
     */
    static float[] subBlockSums(float[] x, int xOffset, int superBlocks, float[] out) {
        float[] sums = out.length >= 16 * superBlocks ? out : new float[16 * superBlocks];
        for (int b = 0; b < superBlocks; b++) {
            for (int j = 0; j < 8; j++) {
                float sum = 0f;
                for (int k = xOffset + 256 * b + 32 * j, end = k + 32; k < end; k++) sum += x[k];
                sums[16 * b + j] = 0f;
                sums[16 * b + 8 + j] = sum;
            }
        }
        return sums;
    }

    /** Per-thread sums for {@link #dot} on the types that take them (a matrix product keeps its own). */
    private static final ThreadLocal<float[][]> X_SUMS = ThreadLocal.withInitial(() -> new float[1][0]);

    /** {@link #dotBlocks} with x's sub-block sums computed here: what dot() runs on Q4_K and Q5_K. */
    final float dotBlocksSummingX(long firstBlock, float[] x, int xOffset, int blocks) {
        float[][] holder = X_SUMS.get();
        holder[0] = subBlockSums(x, xOffset, blocks, holder[0]);
        return dotRow(firstBlock, x, xOffset, blocks, holder[0], scratch());
    }

    /** Decodes elements [offset, offset + n) into out[outOffset...]; the same values {@link #getFloat} gives. */
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        checkRange(offset, n, out, outOffset);
        int bs = type.blockSize();
        long block = offset / bs;
        int within = (int) (offset % bs), i = 0;
        float[] tmp = within != 0 || n % bs != 0 ? new float[bs] : null;
        if (within != 0) { // a partial block first
            dequantizeBlock(block++, tmp, 0);
            i = Math.min(bs - within, n);
            System.arraycopy(tmp, within, out, outOffset, i);
        }
        for (; i + bs <= n; i += bs) dequantizeBlock(block++, out, outOffset + i);
        if (i < n) { // and a partial block last
            dequantizeBlock(block, tmp, 0);
            System.arraycopy(tmp, 0, out, outOffset + i, n - i);
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
        matMul(x, xOffset, cols, out, outOffset, rows, rows, cols, 1);
    }

    /**
     * The matrix products of {@code n} tokens at once: for b in [0, n), out[outOffset + b*outStride + r] =
     * row r · x[xOffset + b*xStride ..+cols). One token (decoding) runs the type's own kernel on each row
     * as it is read from the file. Several (prefill) decode a tile of rows to floats once and multiply it
     * with every token while it is in the cache: the weights are unpacked once per call, not n times.
     */
    public void matMul(float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride, int rows, int cols, int n) {
        checkMatMul(x, xOffset, xStride, out, outOffset, outStride, rows, cols, n);
        if (rows == 0 || n == 0) return;
        MatMul job = MatMul.OF_THIS_THREAD.get().set(this, x, xOffset, xStride, out, outOffset, outStride, cols, n);
        try {
            // threads take tiles one after another, so a slower thread takes fewer; when decoding, four per
            // thread: long runs of rows keep the CPU's prefetchers streaming the weights
            Parallel.forTiles(rows, n == 1 ? Math.max(32, rows / (4 * Parallel.threads())) : MatMul.PREFILL_TILE, job);
        } finally {
            job.clear();
        }
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
     * One matrix product as a task for the thread pool: its arguments in fields, so that a call allocates
     * nothing (the decoding loop runs some 200 of them per token). One per calling thread.
     */
    private static final class MatMul implements Parallel.RangeTask {
        /** Rows of weights a prefill tile decodes to floats at once (they stay in the cache for every token). */
        static final int PREFILL_TILE = 16;
        static final ThreadLocal<MatMul> OF_THIS_THREAD = ThreadLocal.withInitial(MatMul::new);
        /** Each pool thread's decoded rows (PREFILL_TILE rows of floats); grown, never shrunk. */
        private static final ThreadLocal<float[][]> ROWS = ThreadLocal.withInitial(() -> new float[1][0]);

        private FloatTensor w;
        private float[] x, out;
        private int xOffset, xStride, outOffset, outStride, cols, n;
        /** x's sub-block sums when decoding with a type that takes them, else null; its array is kept in sumsBuffer. */
        private float[] xSums;
        private float[] sumsBuffer = new float[0];

        MatMul set(FloatTensor w, float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride, int cols, int n) {
            this.w = w;
            this.x = x;
            this.xOffset = xOffset;
            this.xStride = xStride;
            this.out = out;
            this.outOffset = outOffset;
            this.outStride = outStride;
            this.cols = cols;
            this.n = n;
            boolean sums = n == 1 && w.takesSubBlockSums() && cols % 256 == 0;
            xSums = sums ? (sumsBuffer = subBlockSums(x, xOffset, cols / 256, sumsBuffer)) : null;
            return this;
        }

        void clear() {
            w = null;
            x = out = xSums = null;
        }

        @Override
        public void run(int from, int to) {
            if (n == 1) {
                int r = from, bs = w.type.blockSize();
                if (cols % bs != 0) { // rows that end in a partial block
                    for (; r < to; r++) out[outOffset + r] = w.dot((long) r * cols, x, xOffset, cols);
                    return;
                }
                // decoding, whole blocks per row: the kernel itself, with x's sums if the type takes them
                int blocks = cols / bs;
                float[] scratch = scratch();
                if (xSums == null && cols > LONG_ROW) { // long rows: four at a time (see LONG_ROW)
                    for (; r + 4 <= to; r += 4) w.dotBlocks4((long) r * blocks, blocks, x, xOffset, out, outOffset + r, scratch);
                }
                for (; r < to; r++) out[outOffset + r] = w.dotRow((long) r * blocks, x, xOffset, blocks, xSums, scratch);
                return;
            }
            float[][] holder = ROWS.get();
            if (holder[0].length < (to - from) * cols) holder[0] = new float[PREFILL_TILE * cols];
            float[] rows = holder[0];
            for (int r = from; r < to; r++) w.dequantize((long) r * cols, rows, (r - from) * cols, cols);
            // blocks of 4 rows x 4 tokens; the rows and tokens left over one dot product at a time
            int r = from, whole = n / 4 * 4;
            for (; r + 4 <= to; r += 4) {
                for (int b = 0; b < whole; b += 4) {
                    dot4x4(rows, (r - from) * cols, cols, x, xOffset + b * xStride, xStride, out, outOffset + b * outStride + r, outStride);
                }
            }
            for (int row = from; row < to; row++) {
                for (int b = row < r ? whole : 0; b < n; b++) {
                    out[outOffset + b * outStride + row] = Attention.dot(rows, (row - from) * cols, x, xOffset + b * xStride, cols);
                }
            }
        }
    }

    /**
     * Four rows of floats (w[at], w[at + cols], ...) times four token vectors (x[xi], x[xi + xStride], ...):
     * sixteen dot products, each weight and activation vector loaded once for four multiply-adds (the
     * products of a batch are bound by loads, not by arithmetic). Row k, token t goes to out[o + k + t * outStride].
     */
    static void dot4x4(float[] w, int at, int cols, float[] x, int xi, int xStride, float[] out, int o, int outStride) {
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        FloatVector c0 = a0, c1 = a0, c2 = a0, c3 = a0, d0 = a0, d1 = a0, d2 = a0, d3 = a0;
        int i = 0;
        for (int end = F.loopBound(cols); i < end; i += F.length()) {
            FloatVector w0 = FloatVector.fromArray(F, w, at + i), w1 = FloatVector.fromArray(F, w, at + cols + i);
            FloatVector w2 = FloatVector.fromArray(F, w, at + 2 * cols + i), w3 = FloatVector.fromArray(F, w, at + 3 * cols + i);
            FloatVector x0 = FloatVector.fromArray(F, x, xi + i);
            a0 = w0.fma(x0, a0); a1 = w1.fma(x0, a1); a2 = w2.fma(x0, a2); a3 = w3.fma(x0, a3);
            FloatVector x1 = FloatVector.fromArray(F, x, xi + xStride + i);
            b0 = w0.fma(x1, b0); b1 = w1.fma(x1, b1); b2 = w2.fma(x1, b2); b3 = w3.fma(x1, b3);
            FloatVector x2 = FloatVector.fromArray(F, x, xi + 2 * xStride + i);
            c0 = w0.fma(x2, c0); c1 = w1.fma(x2, c1); c2 = w2.fma(x2, c2); c3 = w3.fma(x2, c3);
            FloatVector x3 = FloatVector.fromArray(F, x, xi + 3 * xStride + i);
            d0 = w0.fma(x3, d0); d1 = w1.fma(x3, d1); d2 = w2.fma(x3, d2); d3 = w3.fma(x3, d3);
        }
        int o1 = o + outStride, o2 = o + 2 * outStride, o3 = o + 3 * outStride;
        out[o] = a0.reduceLanes(VectorOperators.ADD); out[o + 1] = a1.reduceLanes(VectorOperators.ADD);
        out[o + 2] = a2.reduceLanes(VectorOperators.ADD); out[o + 3] = a3.reduceLanes(VectorOperators.ADD);
        out[o1] = b0.reduceLanes(VectorOperators.ADD); out[o1 + 1] = b1.reduceLanes(VectorOperators.ADD);
        out[o1 + 2] = b2.reduceLanes(VectorOperators.ADD); out[o1 + 3] = b3.reduceLanes(VectorOperators.ADD);
        out[o2] = c0.reduceLanes(VectorOperators.ADD); out[o2 + 1] = c1.reduceLanes(VectorOperators.ADD);
        out[o2 + 2] = c2.reduceLanes(VectorOperators.ADD); out[o2 + 3] = c3.reduceLanes(VectorOperators.ADD);
        out[o3] = d0.reduceLanes(VectorOperators.ADD); out[o3 + 1] = d1.reduceLanes(VectorOperators.ADD);
        out[o3 + 2] = d2.reduceLanes(VectorOperators.ADD); out[o3 + 3] = d3.reduceLanes(VectorOperators.ADD);
        // the last cols % F.length() elements (only odd F32/F16 widths have any)
        for (int t = 0; t < 4; t++) {
            for (int k = 0; k < 4; k++) {
                float sum = 0f;
                for (int j = i; j < cols; j++) sum += w[at + k * cols + j] * x[xi + t * xStride + j];
                out[o + t * outStride + k] += sum;
            }
        }
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
    // The vector helpers below are always inlined (the CompileCommand options at the top): once C2 has
    // compiled one on its own, it refuses to inline the big result, and then boxes every vector that
    // crosses the call (seen as tens of MB allocated per 64 decode steps, DecodeAllocationTest).

    /**
     * Every fp16 value as a float (256 KB), as llama.cpp keeps one: a block's scale is then one load that
     * the kernel broadcasts straight from memory, where converting took four instructions per block.
     * Package-private for the kernels that index it themselves instead of calling {@link #f16}.
     */
    static final float[] HALF_TO_FLOAT = new float[1 << 16];
    static {
        for (int h = 0; h < HALF_TO_FLOAT.length; h++) HALF_TO_FLOAT[h] = Float.float16ToFloat((short) h);
    }
    static final ValueLayout.OfChar U16_LE = ValueLayout.JAVA_CHAR_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static float f16(MemorySegment data, long byteOffset) {
        return HALF_TO_FLOAT[data.get(U16_LE, byteOffset)];
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

    /** Per-thread scratch for the K-quant kernels: a decoded super-block at [0, 256), its scales and mins as floats at [256, 288). */
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
     * A dot product by decoding blocks to floats first ({@link #dequantizeBlock}, vector code), up to 256
     * values at a time, and then multiplying. Q6_K's kernel uses it on 128-bit machines, where a byte load
     * widens to more than one float vector (PARTS &gt; 1): its general kernel with a loop over the parts ran
     * at 0.4 GB/s there against 1.0 for this (a JVM limited to 128-bit vectors, the Q4_K_M bench file).
     * scratch is the calling thread's ({@link #scratch}, passed down from the matrix product); its first
     * 256 floats are overwritten.
     */
    final float dotViaDecode(long first, float[] x, int xOffset, int blocks, float[] scratch) {
        float[] w = scratch; // [0, 256): the decoded blocks
        int bs = type.blockSize(), perStep = 256 / bs;
        float sum = 0f;
        for (int b = 0; b < blocks; b += perStep) {
            int n = Math.min(perStep, blocks - b);
            for (int i = 0; i < n; i++) dequantizeBlock(first + b + i, w, i * bs);
            sum += Attention.dot(w, 0, x, xOffset + b * bs, n * bs);
        }
        return sum;
    }

    // The twelve packed bytes q of a Q4_K/Q5_K super-block hold scale j and min j (6 bits each) as ggml's
    // get_scale_min_k4: for j < 4 scale = q[j] & 63 and min = q[j + 4] & 63; for j >= 4 scale = (q[j + 4] & 15)
    // | (q[j - 4] >> 6) << 4 and min = (q[j + 4] >> 4) | (q[j] >> 6) << 4. Lane t of the vectors below is
    // scale t (t < 8) or min t - 8: the byte with the low bits, how far to shift and mask it, the byte with
    // the top two bits, and whether there are any.
    private static final VectorShuffle<Byte> K_LOW_BYTE = VectorShuffle.fromArray(ByteVector.SPECIES_128,
            new int[] {0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11}, 0);
    private static final VectorShuffle<Byte> K_HIGH_BYTE = VectorShuffle.fromArray(ByteVector.SPECIES_128,
            new int[] {0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 4, 5, 6, 7}, 0);
    private static final IntVector K_LOW_SHIFT = IntVector.fromArray(IntVector.SPECIES_512,
            new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4}, 0);
    private static final IntVector K_LOW_MASK = IntVector.fromArray(IntVector.SPECIES_512,
            new int[] {63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15}, 0);
    private static final IntVector K_HIGH_MASK = IntVector.fromArray(IntVector.SPECIES_512,
            new int[] {0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30, 0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30}, 0);
    private static final VectorMask<Float> K_MINS = VectorMask.fromLong(FloatVector.SPECIES_512, 0xFF00);

    /**
     * The values of {@link #kScales} and {@link #kMins} as floats, d * scale_j at out[at + j] and
     * dmin * min_j at out[at + 8 + j], in 16 lanes of vector code instead of 16 scalar extractions (the
     * 512-bit kernels; any machine runs it, only slowly without 512-bit vectors). Inlined like the helpers
     * below: the kernels' accumulators are live across the call.
     */
    static void kScalesMins16(MemorySegment data, long packed, float d, float dmin, float[] out, int at) {
        ByteVector q = ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, packed, ByteOrder.LITTLE_ENDIAN);
        IntVector low = (IntVector) q.rearrange(K_LOW_BYTE).convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
        IntVector high = (IntVector) q.rearrange(K_HIGH_BYTE).convertShape(VectorOperators.ZERO_EXTEND_B2I, IntVector.SPECIES_512, 0);
        IntVector six = low.lanewise(VectorOperators.LSHR, K_LOW_SHIFT).and(K_LOW_MASK)
                .or(high.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4).and(K_HIGH_MASK));
        FloatVector factor = FloatVector.broadcast(FloatVector.SPECIES_512, d).blend(dmin, K_MINS);
        ((FloatVector) six.convert(VectorOperators.I2F, 0)).mul(factor).intoArray(out, at);
    }

    /**
     * The eight 6-bit scales of a Q4_K/Q5_K super-block, scale j in byte j, from the 12 packed bytes at
     * {@code packed}: the values of {@link #kScale} gathered without branches. Bytes 0-3 are the low 6
     * bits of bytes 0-3; bytes 4-7 a nibble of bytes 8-11 below the top 2 bits of bytes 0-3.
     */
    static long kScales(MemorySegment data, long packed) {
        int u0 = data.get(I32_LE, packed), u2 = data.get(I32_LE, packed + 8);
        return (u0 & 0x3f3f3f3fL) | (long) ((u2 & 0x0f0f0f0f) | ((u0 >>> 6) & 0x03030303) << 4) << 32;
    }

    /** The eight 6-bit mins, as {@link #kScales} (the values of {@link #kMin}): bytes 4-7, the high nibbles of 8-11. */
    static long kMins(MemorySegment data, long packed) {
        int u1 = data.get(I32_LE, packed + 4), u2 = data.get(I32_LE, packed + 8);
        return (u1 & 0x3f3f3f3fL) | (long) (((u2 >>> 4) & 0x0f0f0f0f) | ((u1 >>> 6) & 0x03030303) << 4) << 32;
    }

    /** The 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes at {@code at} (ggml's get_scale_min_k4). */
    static int kScale(MemorySegment data, long at, int j) {
        return j < 4 ? u8(data, at + j) & 63 : (u8(data, at + j + 4) & 0xF) | ((u8(data, at + j - 4) >> 6) << 4);
    }

    static int kMin(MemorySegment data, long at, int j) {
        return j < 4 ? u8(data, at + j + 4) & 63 : (u8(data, at + j + 4) >> 4) | ((u8(data, at + j) >> 6) << 4);
    }
}
