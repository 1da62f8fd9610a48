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
 * Q4_0: blocks of 32 values, an fp16 scale d and 16 bytes of 4-bit quants. Byte j holds element j in
 * its low nibble and element j + 16 in its high nibble; value = (q - 8) * d. (ggml's block_q4_0, 18 bytes.)
 */
public final class Q4_0Tensor extends FloatTensor {

    static final int BLOCK = 32;
    static final int BYTES = 18;

    /** A group of 16 blocks, repacked: 16 fp16 scales, then 256 bytes of nibbles (see {@link #repack}). */
    static final int GROUP_BYTES = 16 * BYTES;

    /** The rows repacked for the integer kernel, or null; {@link #packedCols} elements per row. */
    private final MemorySegment packed;
    private final int packedCols;

    Q4_0Tensor(MemorySegment data, long[] shape, long size) {
        this(data, shape, size, null, 0);
    }

    private Q4_0Tensor(MemorySegment data, long[] shape, long size, MemorySegment packed, int packedCols) {
        super(GgmlType.Q4_0, data, shape, size);
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
        return new Q4_0Tensor(data, shape, size, p, cols);
    }

    /**
     * One group of 16 blocks from {@code src} (file layout) into {@code dst}: the 16 scales, then for each
     * half (blocks 0-7, 8-15) 4 chunks of 32 bytes. In chunk c, the 16-bit lane 2j + h holds four nibbles of
     * block j: elements e, e + 1, e + 4, e + 5 with e = 8c + 2h, from the lowest nibble up; the activations
     * are laid out to match ({@link Q8Activations#index}).
     */
    static void repack(MemorySegment src, long from, MemorySegment dst, long to, byte[] in, byte[] out) {
        MemorySegment.copy(src, I8, from, in, 0, GROUP_BYTES); // plain arrays: several times faster than segment accesses
        for (int b = 0; b < 16; b++) {
            out[2 * b] = in[b * BYTES];
            out[2 * b + 1] = in[b * BYTES + 1];
        }
        for (int half = 0; half < 2; half++) {
            for (int c = 0; c < 4; c++) {
                for (int lane = 0; lane < 16; lane++) {
                    int block = (half * 8 + lane / 2) * BYTES + 2;
                    int e = 8 * c + 2 * (lane & 1);
                    int at = 32 + half * 128 + c * 32 + 2 * lane;
                    out[at] = (byte) (nibble(in, block, e) | nibble(in, block, e + 1) << 4);
                    out[at + 1] = (byte) (nibble(in, block, e + 4) | nibble(in, block, e + 5) << 4);
                }
            }
        }
        MemorySegment.copy(out, 0, dst, I8, to, GROUP_BYTES);
    }

    private static int nibble(byte[] in, int quants, int e) {
        int packed = in[quants + (e & 15)] & 0xFF;
        return e < 16 ? packed & 0xF : packed >> 4;
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
     * One repacked row times quantized activations. Per 32 bytes of weights: four nibble vectors (shift and
     * mask), 16-bit multiplies and adds; a lane sums 16 products of at most 15 * 127, below 2^15. Per half
     * group: lane pairs to one int per block, times the activation scale, minus the correction for the
     * nibbles' offset of 8 (8 * d * sum(q)), times the weight scale.
     */
    private float dotPacked(long row, Q8Activations a, int groups) {
        short[] q = a.q;
        float[] xd = a.d, xs = a.sum8;
        FloatVector acc = FloatVector.zero(PackedRows.F256);
        for (int g = 0; g < groups; g++) {
            long base = row + (long) g * GROUP_BYTES;
            for (int half = 0; half < 2; half++) {
                ShortVector s = ShortVector.zero(PackedRows.S256);
                int ao = g * 512 + half * 256;
                for (int c = 0; c < 4; c++) {
                    ShortVector w = ByteVector.fromMemorySegment(PackedRows.B256, packed, base + 32 + half * 128 + c * 32,
                            ByteOrder.LITTLE_ENDIAN).reinterpretAsShorts();
                    int o = ao + c * 64;
                    s = s.add(w.and((short) 0xF).mul(ShortVector.fromArray(PackedRows.S256, q, o)))
                            .add(w.lanewise(VectorOperators.LSHR, 4).and((short) 0xF).mul(ShortVector.fromArray(PackedRows.S256, q, o + 16)))
                            .add(w.lanewise(VectorOperators.LSHR, 8).and((short) 0xF).mul(ShortVector.fromArray(PackedRows.S256, q, o + 32)))
                            .add(w.lanewise(VectorOperators.LSHR, 12).mul(ShortVector.fromArray(PackedRows.S256, q, o + 48)));
                }
                IntVector i = s.reinterpretAsInts();
                IntVector sums = i.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(i.lanewise(VectorOperators.ASHR, 16));
                int block = g * 16 + half * 8;
                FloatVector blockDots = ((FloatVector) sums.convert(VectorOperators.I2F, 0))
                        .mul(FloatVector.fromArray(PackedRows.F256, xd, block))
                        .sub(FloatVector.fromArray(PackedRows.F256, xs, block));
                acc = blockDots.fma(PackedRows.scales(packed, base + half * 16), acc);
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, size);
        long base = index / BLOCK * BYTES;
        int j = (int) (index % BLOCK);
        int packed = u8(data, base + 2 + (j & 15));
        int q = j < 16 ? packed & 0xF : packed >> 4;
        return (q - 8) * f16(data, base);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BYTES;
        float d = f16(data, base);
        for (int j = 0; j < 16; j++) {
            int packed = u8(data, base + 2 + j);
            out[outOffset + j] = ((packed & 0xF) - 8) * d;
            out[outOffset + j + 16] = ((packed >> 4) - 8) * d;
        }
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            int xi = xOffset + b * BLOCK;
            FloatVector blockSum = FloatVector.zero(F);
            for (int k = 0; k < 16; k += L) {
                ByteVector packed = loadBytes(data, base + 2 + k);
                blockSum = fmaBytes(packed.and((byte) 0x0F).sub((byte) 8), x, xi + k, blockSum);
                blockSum = fmaBytes(packed.lanewise(VectorOperators.LSHR, 4).sub((byte) 8), x, xi + 16 + k, blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(F, f16(data, base)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
