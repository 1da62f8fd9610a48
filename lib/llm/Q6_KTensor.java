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

/**
 * Q6_K: super-blocks of 256 values = 16 sub-blocks of 16, 210 bytes (ggml's block_q6_K): 128 bytes ql
 * (low 4 bits), 64 bytes qh (high 2 bits), 16 signed 8-bit scales, fp16 d. Each half of 128 values uses
 * 64 bytes of ql and 32 of qh: for l &lt; 32, values l, l+32, l+64, l+96 are the low nibble of ql[l], low
 * nibble of ql[l+32], high nibble of ql[l], high nibble of ql[l+32], with bits 0-1, 2-3, 4-5, 6-7 of qh[l]
 * on top. value = d * scale * (q - 32).
 */
public final class Q6_KTensor extends FloatTensor {

    static final int BLOCK = 256;
    static final int BYTES = 210;

    Q6_KTensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.Q6_K, data, shape, size);
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, size);
        long base = index / BLOCK * BYTES;
        int e = (int) (index % BLOCK);
        int half = e / 128, group = (e % 128) / 32, l = e % 32;
        long ql = base + 64 * half, qh = base + 128 + 32 * half, sc = base + 192 + 8 * half;
        int low = u8(data, ql + l + (group & 1) * 32);
        int nibble = group < 2 ? low & 0xF : low >> 4;
        int q = (nibble | (((u8(data, qh + l) >> (2 * group)) & 3) << 4)) - 32;
        float d = f16(data, base + 208);
        return d * data.get(I8, sc + l / 16 + 2 * group) * q;
    }

    /** Vector decode of one super-block; the same values, bit for bit, as {@link #getFloat} (see storeQuant). */
    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BYTES;
        float d = f16(data, base + 208);
        for (int sub = 0; sub < 16; sub++) { // 16 values l = 16 * is .. 16 * is + 15 of group g in half h
            int half = sub / 8, g = (sub % 8) / 2, is = sub % 2;
            float scale = d * data.get(I8, base + 192 + 8 * half + is + 2 * g);
            byte mask = (byte) (g >= 2 ? 0xF0 : 0x0F), bits = (byte) (3 << (2 * g));
            float ns = g >= 2 ? 1f / 16 : 1f, hs = 16f / (1 << (2 * g));
            long ql = base + 64 * half + 32 * (g & 1) + 16 * is, qh = base + 128 + 32 * half + 16 * is;
            int o = outOffset + 128 * half + 32 * g + 16 * is;
            for (int k = 0; k < 16; k += L) {
                storeQuant(field(data, ql + k, mask), field(data, qh + k, bits), FloatVector.broadcast(F, ns),
                        FloatVector.broadcast(F, hs), FloatVector.broadcast(F, 128 * ns + 128 * hs - 32),
                        FloatVector.broadcast(F, scale), FloatVector.zero(F), out, o + k);
            }
        }
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        return dotRow(first, x, xOffset, blocks, null, scratch());
    }

    @Override
    float dotRow(long first, float[] x, int xOffset, int blocks, float[] xSums, float[] scratch) {
        return L == 16 ? dotBlocks512(first, x, xOffset, blocks, scratch) : dotBlocksAnyWidth(first, x, xOffset, blocks, scratch);
    }

    /**
     * Per sub-block j of 16 values: sum(value * x) = d * scale_j * sum((q - 32) * x). 512-bit vectors only:
     * 16 bytes of ql or qh widen to the 16 int lanes of one sub-block, where the nibbles and the high bits
     * are put together with shifts (x86 has no byte shifts); the 16 scales times d are one vector step per
     * super-block. Both halves of a super-block are written out, so that the loop over super-blocks is the
     * only loop, calling the Vector API directly for the reason given at {@link Q4_0Tensor#dotBlocks}. Four
     * accumulators, one per group g, so that consecutive multiply-adds do not wait on each other.
     */
    float dotBlocks512(long first, float[] x, int xOffset, int blocks, float[] scratch) {
        float[] sc = scratch; // [256, 272): this super-block's 16 scales times d
        FloatVector acc1 = FloatVector.zero(F), acc2 = acc1, acc3 = acc1, acc4 = acc1;
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            ((FloatVector) ByteVector.fromMemorySegment(B, data, base + 192, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2I, I, 0).convert(VectorOperators.I2F, 0))
                    .mul(HALF_TO_FLOAT[data.get(U16_LE, base + 208)]).intoArray(sc, 256);
            int xi = xOffset + b * BLOCK;
            // half 0, l = 0..15: values l, l+32, l+64, l+96 (sub-blocks 0, 2, 4, 6)
            IntVector a = (IntVector) ByteVector.fromMemorySegment(B, data, base, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector c = (IntVector) ByteVector.fromMemorySegment(B, data, base + 32, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector h = (IntVector) ByteVector.fromMemorySegment(B, data, base + 128, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            acc1 = ((FloatVector) a.and(0xF).or(h.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi)).fma(FloatVector.broadcast(F, sc[256]), acc1);
            acc2 = ((FloatVector) c.and(0xF).or(h.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 32)).fma(FloatVector.broadcast(F, sc[258]), acc2);
            acc3 = ((FloatVector) a.lanewise(VectorOperators.LSHR, 4).or(h.and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 64)).fma(FloatVector.broadcast(F, sc[260]), acc3);
            acc4 = ((FloatVector) c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 96)).fma(FloatVector.broadcast(F, sc[262]), acc4);
            // half 0, l = 16..31 (sub-blocks 1, 3, 5, 7)
            a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 16, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            c = (IntVector) ByteVector.fromMemorySegment(B, data, base + 48, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            h = (IntVector) ByteVector.fromMemorySegment(B, data, base + 144, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            acc1 = ((FloatVector) a.and(0xF).or(h.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 16)).fma(FloatVector.broadcast(F, sc[257]), acc1);
            acc2 = ((FloatVector) c.and(0xF).or(h.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 48)).fma(FloatVector.broadcast(F, sc[259]), acc2);
            acc3 = ((FloatVector) a.lanewise(VectorOperators.LSHR, 4).or(h.and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 80)).fma(FloatVector.broadcast(F, sc[261]), acc3);
            acc4 = ((FloatVector) c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 112)).fma(FloatVector.broadcast(F, sc[263]), acc4);
            // half 1, l = 0..15 (sub-blocks 8, 10, 12, 14)
            a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 64, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            c = (IntVector) ByteVector.fromMemorySegment(B, data, base + 96, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            h = (IntVector) ByteVector.fromMemorySegment(B, data, base + 160, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            acc1 = ((FloatVector) a.and(0xF).or(h.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 128)).fma(FloatVector.broadcast(F, sc[264]), acc1);
            acc2 = ((FloatVector) c.and(0xF).or(h.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 160)).fma(FloatVector.broadcast(F, sc[266]), acc2);
            acc3 = ((FloatVector) a.lanewise(VectorOperators.LSHR, 4).or(h.and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 192)).fma(FloatVector.broadcast(F, sc[268]), acc3);
            acc4 = ((FloatVector) c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 224)).fma(FloatVector.broadcast(F, sc[270]), acc4);
            // half 1, l = 16..31 (sub-blocks 9, 11, 13, 15)
            a = (IntVector) ByteVector.fromMemorySegment(B, data, base + 80, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            c = (IntVector) ByteVector.fromMemorySegment(B, data, base + 112, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            h = (IntVector) ByteVector.fromMemorySegment(B, data, base + 176, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            acc1 = ((FloatVector) a.and(0xF).or(h.lanewise(VectorOperators.LSHL, 4).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 144)).fma(FloatVector.broadcast(F, sc[265]), acc1);
            acc2 = ((FloatVector) c.and(0xF).or(h.lanewise(VectorOperators.LSHL, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 176)).fma(FloatVector.broadcast(F, sc[267]), acc2);
            acc3 = ((FloatVector) a.lanewise(VectorOperators.LSHR, 4).or(h.and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 208)).fma(FloatVector.broadcast(F, sc[269]), acc3);
            acc4 = ((FloatVector) c.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 2).and(0x30)).sub(32).convert(VectorOperators.I2F, 0))
                    .mul(FloatVector.fromArray(F, x, xi + 240)).fma(FloatVector.broadcast(F, sc[271]), acc4);
        }
        return acc1.add(acc2).add(acc3.add(acc4)).reduceLanes(VectorOperators.ADD);
    }

    /**
     * {@link #dotBlocks} for any vector size. Per 16 values: sum(value * x) = d * scale * sum(q * x), q the
     * signed 6-bit quant built exactly from its masked nibble and high bits (see storeQuant).
     */
    float dotBlocksAnyWidth(long first, float[] x, int xOffset, int blocks, float[] scratch) {
        if (PARTS != 1) {
            return dotViaDecode(first, x, xOffset, blocks, scratch);
        }
        FloatVector acc = FloatVector.zero(F);
        FloatVector sixteenth = FloatVector.broadcast(F, 1f / 16), quarter = FloatVector.broadcast(F, 0.25f);
        FloatVector four = FloatVector.broadcast(F, 4f), sixteen = FloatVector.broadcast(F, 16f);
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            float d = f16(data, base + 208);
            for (int half = 0; half < 2; half++) {
                long ql = base + 64 * half, qh = base + 128 + 32 * half;
                for (int is = 0; is < 2; is++) { // l = 16 * is .. 16 * is + 15 of each group g: one scale each
                    int xi = xOffset + b * BLOCK + 128 * half + 16 * is;
                    FloatVector qx1 = FloatVector.zero(F), qx2 = qx1, qx3 = qx1, qx4 = qx1;
                    for (int k = 16 * is; k < 16 * is + 16; k += L) {
                        ByteVector a = loadBytes(data, ql + k), c = loadBytes(data, ql + 32 + k), h = loadBytes(data, qh + k);
                        // q - 32 for the groups g = 0..3 (values l, l+32, l+64, l+96); XOR 0x80 makes a masked field f read as f - 128
                        FloatVector q1 = widen(h.and((byte) 0x03), 0).fma(sixteen, widen(a.and((byte) 0x0F).sub((byte) 32), 0));
                        FloatVector q2 = widen(h.and((byte) 0x0C), 0).fma(four, widen(c.and((byte) 0x0F).sub((byte) 32), 0));
                        FloatVector q3 = widen(a.and((byte) 0xF0).lanewise(VectorOperators.XOR, (byte) 0x80), 0).fma(sixteenth,
                                widen(h.and((byte) 0x30).sub((byte) 24), 0));
                        FloatVector q4 = widen(c.and((byte) 0xF0).lanewise(VectorOperators.XOR, (byte) 0x80), 0).fma(sixteenth,
                                widen(h.and((byte) 0xC0).lanewise(VectorOperators.XOR, (byte) 0x80), 0).fma(quarter, FloatVector.broadcast(F, 8f)));
                        int xk = xi + k - 16 * is;
                        qx1 = q1.fma(FloatVector.fromArray(F, x, xk), qx1);
                        qx2 = q2.fma(FloatVector.fromArray(F, x, xk + 32), qx2);
                        qx3 = q3.fma(FloatVector.fromArray(F, x, xk + 64), qx3);
                        qx4 = q4.fma(FloatVector.fromArray(F, x, xk + 96), qx4);
                    }
                    int sc = 192 + 8 * half + is;
                    acc = qx1.fma(FloatVector.broadcast(F, d * data.get(I8, base + sc)), acc);
                    acc = qx2.fma(FloatVector.broadcast(F, d * data.get(I8, base + sc + 2)), acc);
                    acc = qx3.fma(FloatVector.broadcast(F, d * data.get(I8, base + sc + 4)), acc);
                    acc = qx4.fma(FloatVector.broadcast(F, d * data.get(I8, base + sc + 6)), acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
