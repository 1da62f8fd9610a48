//SOURCES FloatTensor.java
//SOURCES PackedRows.java
//SOURCES Q8Activations.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0: blocks of 32 values, each block an fp16 scale d followed by 32 signed bytes q;
 * value = q * d. (ggml's block_q8_0, 34 bytes.)
 */
public final class Q8_0Tensor extends FloatTensor {

    static final int BLOCK = 32;
    static final int BYTES = 34;

    /** A group of 16 blocks, repacked: 16 fp16 scales, then 512 bytes of quants (see {@link #repack}). */
    static final int GROUP_BYTES = 16 * BYTES;

        /** The rows repacked for the integer kernel, or null; {@link #packedCols} elements per row. */
    private final MemorySegment packed;
    private final int packedCols;

    Q8_0Tensor(MemorySegment data, long[] shape, long size) {
        this(data, shape, size, null, 0);
    }

    private Q8_0Tensor(MemorySegment data, long[] shape, long size, MemorySegment packed, int packedCols) {
        super(GgmlType.Q8_0, data, shape, size);
        this.packed = packed;
        this.packedCols = packedCols;
    }

    @Override
    public FloatTensor forMatMul(int cols) {
        if (packed != null || cols <= 0 || size % cols != 0 || !PackedRows.fits(size / cols, cols)) return this;
        int rows = (int) (size / cols), groups = cols / 512;
        MemorySegment p = PackedRows.allocate(size / BLOCK * BYTES);
        Parallel.forRange(rows, (from, to) -> {
            byte[] in = new byte[GROUP_BYTES], out = new byte[GROUP_BYTES];
            for (int r = from; r < to; r++) {
                for (int g = 0; g < groups; g++) {
                    long at = ((long) r * groups + g) * GROUP_BYTES;
                    repack(data, at, p, at, in, out);
                }
            }
        });
        PackedRows.release(data);
        return new Q8_0Tensor(data, shape, size, p, cols);
    }

    /**
     * One group of 16 blocks from {@code src} (file layout) into {@code dst}: the 16 scales, then for each
     * half (blocks 0-7, 8-15) 8 chunks of 32 bytes; chunk c holds bytes 4c..4c+3 of block j at 4j, so the
     * 16-bit lane 2j + h holds elements 4c + 2h (low byte) and 4c + 2h + 1 (high byte) of block j, where
     * the activations have them too ({@link Q8Activations#index}).
     */
    static void repack(MemorySegment src, long from, MemorySegment dst, long to, byte[] in, byte[] out) {
        MemorySegment.copy(src, I8, from, in, 0, GROUP_BYTES); // plain arrays: several times faster than segment accesses
        for (int b = 0; b < 16; b++) {
            out[2 * b] = in[b * BYTES];
            out[2 * b + 1] = in[b * BYTES + 1];
        }
        for (int half = 0; half < 2; half++) {
            for (int c = 0; c < 8; c++) {
                for (int j = 0; j < 8; j++) {
                    System.arraycopy(in, (half * 8 + j) * BYTES + 2 + 4 * c, out, 32 + half * 256 + c * 32 + 4 * j, 4);
                }
            }
        }
        MemorySegment.copy(out, 0, dst, I8, to, GROUP_BYTES);
    }

    @Override
    public void matVec(float[] x, int xOffset, float[] out, int outOffset, int rows, int cols) {
        if (packed == null || cols != packedCols) {
            super.matVec(x, xOffset, out, outOffset, rows, cols);
            return;
        }
        matMul(x, xOffset, cols, out, outOffset, rows, rows, cols, 1);
    }

    @Override
    public void matMul(float[] x, int xOffset, int xStride, float[] out, int outOffset, int outStride, int rows, int cols, int n) {
        if (packed == null || cols != packedCols) {
            super.matMul(x, xOffset, xStride, out, outOffset, outStride, rows, cols, n);
            return;
        }
        checkMatMul(x, xOffset, xStride, out, outOffset, outStride, rows, cols, n);
        Q8Activations[] a = Q8Activations.buffers(n);
        for (int b = 0; b < n; b++) a[b].quantize(x, xOffset + b * xStride, cols);
        int groups = cols / 512;
        // tiles of 4 rows: each token's activations are read 4 times in a row (from L1), the tile's weights n times
        PackedRows.forRowTiles(rows, 32, (from, to) -> {
            for (int r0 = from; r0 < to; r0 += 4) {
                int r1 = Math.min(r0 + 4, to);
                for (int b = 0; b < n; b++) {
                    for (int r = r0; r < r1; r++) {
                        out[outOffset + b * outStride + r] = dotPacked((long) r * groups * GROUP_BYTES, a[b], groups);
                    }
                }
            }
        });
    }

    /**
     * One repacked row times quantized activations. Per 32 bytes of weights: the low and high bytes of each
     * 16-bit lane as signed numbers (shifts), two 16-bit multiplies and an add (|sum| at most 2 * 128 * 127,
     * below 2^15), then each lane pair into one int per block. Per half group: times both scales, one fma.
     */
    private float dotPacked(long row, Q8Activations a, int groups) {
        short[] q = a.q;
        float[] xd = a.d;
        FloatVector acc = FloatVector.zero(PackedRows.F256);
        for (int g = 0; g < groups; g++) {
            long base = row + (long) g * GROUP_BYTES;
            for (int half = 0; half < 2; half++) {
                IntVector sums = IntVector.zero(PackedRows.I256);
                int ao = g * 512 + half * 256;
                for (int c = 0; c < 8; c++) {
                    ShortVector w = ByteVector.fromMemorySegment(PackedRows.B256, packed, base + 32 + half * 256 + c * 32,
                            ByteOrder.LITTLE_ENDIAN).reinterpretAsShorts();
                    int o = ao + c * 32;
                    ShortVector p = w.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8)
                            .mul(ShortVector.fromArray(PackedRows.S256, q, o))
                            .add(w.lanewise(VectorOperators.ASHR, 8).mul(ShortVector.fromArray(PackedRows.S256, q, o + 16)));
                    IntVector i = p.reinterpretAsInts();
                    sums = sums.add(i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16))
                            .add(i.lanewise(VectorOperators.ASHR, 16));
                }
                FloatVector blockDots = ((FloatVector) sums.convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(PackedRows.F256, xd, g * 16 + half * 8));
                acc = blockDots.fma(PackedRows.scales(packed, base + half * 16), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, size);
        long base = index / BLOCK * BYTES;
        float d = f16(data, base);
        return data.get(I8, base + 2 + index % BLOCK) * d;
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BYTES;
        float d = f16(data, base);
        for (int j = 0; j < BLOCK; j++) {
            out[outOffset + j] = data.get(I8, base + 2 + j) * d;
        }
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            int xi = xOffset + b * BLOCK;
            // sum q*x over the block first, then scale once by d
            FloatVector blockSum = FloatVector.zero(F);
            for (int k = 0; k < BLOCK; k += L) {
                blockSum = fmaBytes(loadBytes(data, base + 2 + k), x, xi + k, blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(F, f16(data, base)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
