//SOURCES FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * Q4_K: super-blocks of 256 values = 8 sub-blocks of 32, 144 bytes (ggml's block_q4_K):
 * fp16 d, fp16 dmin, 12 bytes holding eight 6-bit scales and eight 6-bit mins, 128 bytes of nibbles.
 * Each 32 bytes of nibbles cover 64 values: low nibbles the first 32 (sub-block 2c), high nibbles the
 * next 32 (sub-block 2c + 1). value = d * scale * q - dmin * min.
 */
public final class Q4_KTensor extends FloatTensor {

    static final int BLOCK = 256;
    static final int BYTES = 144;

    Q4_KTensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.Q4_K, data, shape, size);
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, size);
        long base = index / BLOCK * BYTES;
        int e = (int) (index % BLOCK);
        int chunk = e / 64, within = e % 64;
        int sub = 2 * chunk + within / 32;
        int packed = u8(data, base + 16 + 32 * chunk + within % 32);
        int q = within < 32 ? packed & 0xF : packed >> 4;
        float d1 = f16(data, base) * kScale(data, base + 4, sub);
        float m1 = f16(data, base + 2) * kMin(data, base + 4, sub);
        return d1 * q - m1;
    }

    /** Vector decode of one super-block; the same values, bit for bit, as {@link #getFloat} (see storeQuant). */
    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BYTES;
        // the scales and mins stay packed in two longs until a sub-block needs its own, as in dotBlocksAnyWidth
        float d = f16(data, base), dmin = f16(data, base + 2);
        long scales = kScales(data, base + 4), mins = kMins(data, base + 4);
        for (int sub = 0; sub < 8; sub++) { // chunk c = sub / 2: low nibbles are sub-block 2c, high nibbles 2c + 1
            boolean high = sub % 2 == 1;
            byte mask = (byte) (high ? 0xF0 : 0x0F);
            float ns = high ? 1f / 16 : 1f;
            long q = base + 16 + 32 * (sub / 2);
            int o = outOffset + 32 * sub;
            for (int k = 0; k < 32; k += L) {
                ByteVector n = field(data, q + k, mask);
                storeQuant(n, n, FloatVector.broadcast(F, ns), FloatVector.zero(F), FloatVector.broadcast(F, 128 * ns),
                        FloatVector.broadcast(F, d * (int) (scales >>> 8 * sub & 0xFF)),
                        FloatVector.broadcast(F, dmin * (int) (mins >>> 8 * sub & 0xFF)), out, o + k);
            }
        }
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        return L == 16 ? dotBlocksSummingX(first, x, xOffset, blocks) : dotBlocksAnyWidth(first, x, xOffset, blocks);
    }

    @Override
    boolean takesSubBlockSums() {
        return L == 16;
    }

    /**
     * x in the kernel's order: the kernel reads a super-block's nibbles as 32 words of 32 bits, 16 per 64-byte
     * load, and takes nibble e (0..7) of every word of a load at once; out[256 b + 128 h + 16 e + i] is the x
     * that nibble e of word i of load h multiplies ({@link #KERNEL_ORDER}), times 2^(11 - 4 (e % 4)) (see
     * dotRow; exact, being a power of two, for |x| below 2^116).
     */
    @Override
    float[] inKernelOrder(float[] x, int xOffset, int superBlocks, float[] out) {
        return L == 16 ? inNibbleWordOrder(x, xOffset, superBlocks, out) : null;
    }

    /** {@link #inKernelOrder}; Q5_K's kernel reads its nibbles the same way. */
    static float[] inNibbleWordOrder(float[] x, int xOffset, int superBlocks, float[] out) {
        float[] ordered = out.length >= BLOCK * superBlocks ? out : new float[BLOCK * superBlocks];
        for (int b = 0; b < superBlocks; b++) {
            int from = xOffset + BLOCK * b, to = BLOCK * b;
            for (int j = 0; j < BLOCK; j++) ordered[to + j] = x[from + KERNEL_ORDER[j]] * KERNEL_SCALE[j];
        }
        return ordered;
    }

    /**
     * For each place j = 128 h + 16 e + i of {@link #inKernelOrder}, the value whose nibble is nibble e of word
     * i of the super-block's 64-byte load h: byte 4i + e/2 of the load, its low nibble for even e; byte k of
     * 32-byte chunk c holds values 64c + k (low nibble) and 64c + 32 + k (high).
     */
    private static final int[] KERNEL_ORDER = new int[BLOCK];
    private static final float[] KERNEL_SCALE = new float[BLOCK];
    static {
        for (int j = 0; j < BLOCK; j++) {
            int h = j / 128, e = j % 128 / 16, i = j % 16;
            int byteInLoad = 4 * i + e / 2, chunk = 2 * h + byteInLoad / 32;
            KERNEL_ORDER[j] = 64 * chunk + byteInLoad % 32 + 32 * (e % 2);
            KERNEL_SCALE[j] = Math.scalb(1f, 11 - 4 * (e % 4));
        }
    }

    /** Lanes 0-7 of a 64-byte load come from one chunk, lanes 8-15 from the next: for load h and nibble parity p, scales 4h + p and 4h + 2 + p. */
    static final VectorShuffle<Float>[] SCALE_PAIRS = scalePairs();

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] scalePairs() {
        VectorShuffle<Float>[] pairs = new VectorShuffle[4];
        for (int k = 0; k < 4; k++) {
            int[] lanes = new int[16];
            for (int i = 0; i < 16; i++) lanes[i] = 4 * (k / 2) + k % 2 + (i < 8 ? 0 : 2);
            pairs[k] = VectorShuffle.fromArray(FloatVector.SPECIES_512, lanes, 0);
        }
        return pairs;
    }

    /**
     * Per sub-block j: sum(value * x) = d * scale_j * sum(q * x) - dmin * min_j * sum(x); the sums of x come
     * from xSums (the same for every row of a matrix), so a super-block's mins cost one multiply-add of its
     * 8 scales and 8 mins with them. 512-bit vectors only, x as {@link #inKernelOrder} lays it out. The
     * nibbles are never widened or converted: nibble k (0..3) of a 32-bit word, masked in place and ORed
     * into the bits of 1.0f, is the float 1 + q * 2^(4k - 23) exactly, and minus 1 (exact again) it is
     * q * 2^(4k - 23); the words shifted right by 16 give nibbles 4..7 the same way. x comes scaled by
     * 2^(11 - 4k), so every product is q * x * 2^-12 and d carries the 2^12. Per 16 values: a mask-and-or, a
     * subtract and a multiply-add, where widening, splitting and converting took four steps. Each load's lanes
     * hold two sub-blocks (see SCALE_PAIRS). Written out, one loop, for the reasons given at
     * {@link Q4_0Tensor#dotBlocks}.
     */
    @Override
    float dotRow(long first, float[] x, int xOffset, int blocks, float[] xSums, float[] scratch) {
        if (xSums == null) return dotBlocks(first, x, xOffset, blocks); // narrower vectors (takesSubBlockSums)
        float[] sm = scratch; // [256, 272): this super-block's scales and mins times d * 2^12 and dmin
        FloatVector low = FloatVector.zero(F), high = low, mins = low;
        long start = first * BYTES;
        for (int b = 0; b < blocks; b++) {
            // the offset as a constant plus the loop counter times BYTES: C2 compiles this form to shorter
            // code than (first + b) * BYTES (1.1-1.2x here; see the README's Performance section for the others)
            long base = start + b * (long) BYTES;
            kScalesMins16(data, base + 4, f16(data, base) * 0x1p12f, f16(data, base + 2), sm, 256);
            FloatVector s = FloatVector.fromArray(F, sm, 256);
            mins = s.fma(FloatVector.fromArray(F, xSums, 16 * b), mins);
            int xi = xOffset + b * BLOCK;
            IntVector v = IntVector.fromMemorySegment(I, data, base + 16, ByteOrder.LITTLE_ENDIAN), u = v.lanewise(VectorOperators.LSHR, 16);
            FloatVector lo = v.and(0xF).or(ONE_BITS).reinterpretAsFloats().sub(1f).mul(FloatVector.fromArray(F, x, xi));
            FloatVector hi = v.and(0xF0).or(ONE_BITS).reinterpretAsFloats().sub(1f).mul(FloatVector.fromArray(F, x, xi + 16));
            lo = v.and(0xF00).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 32), lo);
            hi = v.and(0xF000).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 48), hi);
            lo = u.and(0xF).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 64), lo);
            hi = u.and(0xF0).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 80), hi);
            lo = u.and(0xF00).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 96), lo);
            hi = u.and(0xF000).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 112), hi);
            low = lo.fma(s.rearrange(SCALE_PAIRS[0]), low);
            high = hi.fma(s.rearrange(SCALE_PAIRS[1]), high);
            IntVector w = IntVector.fromMemorySegment(I, data, base + 80, ByteOrder.LITTLE_ENDIAN), t = w.lanewise(VectorOperators.LSHR, 16);
            lo = w.and(0xF).or(ONE_BITS).reinterpretAsFloats().sub(1f).mul(FloatVector.fromArray(F, x, xi + 128));
            hi = w.and(0xF0).or(ONE_BITS).reinterpretAsFloats().sub(1f).mul(FloatVector.fromArray(F, x, xi + 144));
            lo = w.and(0xF00).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 160), lo);
            hi = w.and(0xF000).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 176), hi);
            lo = t.and(0xF).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 192), lo);
            hi = t.and(0xF0).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 208), hi);
            lo = t.and(0xF00).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 224), lo);
            hi = t.and(0xF000).or(ONE_BITS).reinterpretAsFloats().sub(1f).fma(FloatVector.fromArray(F, x, xi + 240), hi);
            low = lo.fma(s.rearrange(SCALE_PAIRS[2]), low);
            high = hi.fma(s.rearrange(SCALE_PAIRS[3]), high);
        }
        return low.add(high).reduceLanes(VectorOperators.ADD) - mins.reduceLanes(VectorOperators.ADD);
    }

    /** The bits of 1.0f: a nibble ORed into its mantissa makes 1 + nibble * 2^(its position - 23). */
    static final int ONE_BITS = Float.floatToIntBits(1f);

    /** {@link #dotBlocks} for any vector size: loops over super-blocks, chunks of 32 bytes, and loads of L bytes. */
    float dotBlocksAnyWidth(long first, float[] x, int xOffset, int blocks) {
        if (PARTS != 1) {
            return dotViaDecode(first, x, xOffset, blocks);
        }
        FloatVector acc = FloatVector.zero(F), minSum = acc;
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            // the scales and mins stay packed in two longs (one byte each) until a sub-block needs its own:
            // going through a float array cost 40% of the kernel's time
            float d = f16(data, base), dmin = f16(data, base + 2);
            long scales = kScales(data, base + 4), mins = kMins(data, base + 4);
            for (int c = 0; c < 4; c++) { // 32 bytes: low nibbles are sub-block 2c, high nibbles 2c + 1
                int xi = xOffset + b * BLOCK + 64 * c;
                FloatVector qx1 = FloatVector.zero(F), qx2 = qx1, sx1 = qx1, sx2 = qx1;
                for (int k = 0; k < 32; k += L) {
                    IntVector packed = (IntVector) loadBytes(data, base + 16 + 32 * c + k).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    FloatVector x1 = FloatVector.fromArray(F, x, xi + k), x2 = FloatVector.fromArray(F, x, xi + 32 + k);
                    qx1 = ((FloatVector) packed.and(0xF).convert(VectorOperators.I2F, 0)).fma(x1, qx1);
                    qx2 = ((FloatVector) packed.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(x2, qx2);
                    sx1 = sx1.add(x1);
                    sx2 = sx2.add(x2);
                }
                acc = qx1.fma(FloatVector.broadcast(F, d * (int) (scales >>> 16 * c & 0xFF)), acc);
                acc = qx2.fma(FloatVector.broadcast(F, d * (int) (scales >>> 16 * c + 8 & 0xFF)), acc);
                minSum = sx1.fma(FloatVector.broadcast(F, dmin * (int) (mins >>> 16 * c & 0xFF)), minSum);
                minSum = sx2.fma(FloatVector.broadcast(F, dmin * (int) (mins >>> 16 * c + 8 & 0xFF)), minSum);
            }
        }
        return acc.sub(minSum).reduceLanes(VectorOperators.ADD);
    }
}
