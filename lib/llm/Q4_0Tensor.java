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
 * Q4_0: blocks of 32 values, an fp16 scale d and 16 bytes of 4-bit quants. Byte j holds element j in
 * its low nibble and element j + 16 in its high nibble; value = (q - 8) * d. (ggml's block_q4_0, 18 bytes.)
 */
public final class Q4_0Tensor extends FloatTensor {

    static final int BLOCK = 32;
    static final int BYTES = 18;

    Q4_0Tensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.Q4_0, data, shape, size);
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
        FloatVector d = FloatVector.broadcast(F, f16(data, base));
        for (int k = 0; k < 16; k += L) {
            ByteVector flipped = loadBytes(data, base + 2 + k).lanewise(VectorOperators.XOR, (byte) 0x88); // see dotBlocks
            for (int p = 0; p < PARTS; p++) {
                IntVector q = (IntVector) flipped.convertShape(VectorOperators.B2I, I, p);
                int o = outOffset + k + p * F.length();
                ((FloatVector) q.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28).convert(VectorOperators.I2F, 0))
                        .mul(d).intoArray(out, o);
                ((FloatVector) q.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).mul(d).intoArray(out, o + 16);
            }
        }
    }

    /**
     * Per block: the 16 low nibbles times x[0..16), the 16 high ones times x[16..32), then one multiply by d.
     * Each quant byte is XOR 0x88 first: flipping the top bit of a nibble turns q into the 4-bit two's
     * complement of q - 8, so after widening to ints, shifts give q - 8 without a subtraction, and no byte
     * is shifted (x86 has no byte shifts).
     *
     * <p>With 512-bit vectors a block's 16 bytes are one load, and the loop over blocks is the only loop:
     * C2 unrolls only innermost loops, and with a loop over a block's bytes inside it, even one that runs
     * once, the kernel was 1.3x slower. It takes four blocks per step (a step's bookkeeping, about half of
     * C2's loop, then counts once per four: 1.1x) into two accumulators, so that two chains of multiply-adds
     * run at once. Written out in one method that calls the Vector API and MemorySegment directly, not the
     * lib's helpers ({@link #loadBytes}, {@link #f16}): past a budget of nodes C2 stops inlining every call
     * but the JDK's own {@code @ForceInline} methods, and a call it does not inline boxes every vector that
     * crosses it. Other vector sizes: {@link #dotBlocksAnyWidth}.
     */
    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        if (L != 16) return dotBlocksAnyWidth(first, x, xOffset, blocks);
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        long base = first * BYTES;
        int b = 0, xi = xOffset;
        for (; b + 4 <= blocks; b += 4, base += 4 * BYTES, xi += 4 * BLOCK) {
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, data, base + 2, ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.XOR, (byte) 0x88)
                    .convertShape(VectorOperators.B2I, I, 0);
            FloatVector sum0 = ((FloatVector) q0.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi));
            sum0 = ((FloatVector) q0.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 16), sum0);
            acc0 = sum0.fma(FloatVector.broadcast(F, HALF_TO_FLOAT[data.get(U16_LE, base)]), acc0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, data, base + BYTES + 2, ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.XOR, (byte) 0x88)
                    .convertShape(VectorOperators.B2I, I, 0);
            FloatVector sum1 = ((FloatVector) q1.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + BLOCK));
            sum1 = ((FloatVector) q1.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + BLOCK + 16), sum1);
            acc1 = sum1.fma(FloatVector.broadcast(F, HALF_TO_FLOAT[data.get(U16_LE, base + BYTES)]), acc1);
            IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, data, base + 2 * BYTES + 2, ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.XOR, (byte) 0x88)
                    .convertShape(VectorOperators.B2I, I, 0);
            FloatVector sum2 = ((FloatVector) q2.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 2 * BLOCK));
            sum2 = ((FloatVector) q2.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 2 * BLOCK + 16), sum2);
            acc0 = sum2.fma(FloatVector.broadcast(F, HALF_TO_FLOAT[data.get(U16_LE, base + 2 * BYTES)]), acc0);
            IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, data, base + 3 * BYTES + 2, ByteOrder.LITTLE_ENDIAN).lanewise(VectorOperators.XOR, (byte) 0x88)
                    .convertShape(VectorOperators.B2I, I, 0);
            FloatVector sum3 = ((FloatVector) q3.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xi + 3 * BLOCK));
            sum3 = ((FloatVector) q3.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0))
                    .fma(FloatVector.fromArray(F, x, xi + 3 * BLOCK + 16), sum3);
            acc1 = sum3.fma(FloatVector.broadcast(F, HALF_TO_FLOAT[data.get(U16_LE, base + 3 * BYTES)]), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        return b < blocks ? sum + dotBlocksAnyWidth(first + b, x, xi, blocks - b) : sum; // the last blocks
    }

    /**
     * Rows longer than {@link #LONG_ROW}, four at a time: per step one block of each row, each x vector
     * loaded once for the four. The same steps as {@link #dotBlocks}, with one accumulator per row (so the
     * sums agree with dotBlocks' within rounding, not bit for bit).
     */
    @Override
    void dotBlocks4(long first, int blocks, float[] x, int xOffset, float[] out, int outOffset, float[] scratch) {
        if (L != 16) {
            super.dotBlocks4(first, blocks, x, xOffset, out, outOffset, scratch);
            return;
        }
        long rowBytes = (long) blocks * BYTES, base = first * BYTES;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (int b = 0, xi = xOffset; b < blocks; b++, base += BYTES, xi += BLOCK) {
            FloatVector xLow = FloatVector.fromArray(F, x, xi), xHigh = FloatVector.fromArray(F, x, xi + 16);
            IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, data, base + 2, ByteOrder.LITTLE_ENDIAN)
                    .lanewise(VectorOperators.XOR, (byte) 0x88).convertShape(VectorOperators.B2I, I, 0);
            FloatVector sum0 = ((FloatVector) q0.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(xLow);
            sum0 = ((FloatVector) q0.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).fma(xHigh, sum0);
            acc0 = sum0.fma(FloatVector.broadcast(F, HALF_TO_FLOAT[data.get(U16_LE, base)]), acc0);
            IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, data, base + rowBytes + 2, ByteOrder.LITTLE_ENDIAN)
                    .lanewise(VectorOperators.XOR, (byte) 0x88).convertShape(VectorOperators.B2I, I, 0);
            FloatVector sum1 = ((FloatVector) q1.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(xLow);
            sum1 = ((FloatVector) q1.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).fma(xHigh, sum1);
            acc1 = sum1.fma(FloatVector.broadcast(F, HALF_TO_FLOAT[data.get(U16_LE, base + rowBytes)]), acc1);
            IntVector q2 = (IntVector) ByteVector.fromMemorySegment(B, data, base + 2 * rowBytes + 2, ByteOrder.LITTLE_ENDIAN)
                    .lanewise(VectorOperators.XOR, (byte) 0x88).convertShape(VectorOperators.B2I, I, 0);
            FloatVector sum2 = ((FloatVector) q2.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(xLow);
            sum2 = ((FloatVector) q2.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).fma(xHigh, sum2);
            acc2 = sum2.fma(FloatVector.broadcast(F, HALF_TO_FLOAT[data.get(U16_LE, base + 2 * rowBytes)]), acc2);
            IntVector q3 = (IntVector) ByteVector.fromMemorySegment(B, data, base + 3 * rowBytes + 2, ByteOrder.LITTLE_ENDIAN)
                    .lanewise(VectorOperators.XOR, (byte) 0x88).convertShape(VectorOperators.B2I, I, 0);
            FloatVector sum3 = ((FloatVector) q3.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28)
                    .convert(VectorOperators.I2F, 0)).mul(xLow);
            sum3 = ((FloatVector) q3.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0)).fma(xHigh, sum3);
            acc3 = sum3.fma(FloatVector.broadcast(F, HALF_TO_FLOAT[data.get(U16_LE, base + 3 * rowBytes)]), acc3);
        }
        out[outOffset] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOffset + 1] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOffset + 2] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOffset + 3] = acc3.reduceLanes(VectorOperators.ADD);
    }

    /** {@link #dotBlocks} for any vector size: a block's 16 bytes in loads of L (the same steps, one block at a time). */
    float dotBlocksAnyWidth(long first, float[] x, int xOffset, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        long base = first * BYTES;
        for (int b = 0, xi = xOffset; b < blocks; b++, base += BYTES, xi += BLOCK) {
            FloatVector blockSum = FloatVector.zero(F);
            for (int k = 0; k < 16; k += L) {
                ByteVector flipped = loadBytes(data, base + 2 + k).lanewise(VectorOperators.XOR, (byte) 0x88);
                for (int p = 0; p < PARTS; p++) {
                    IntVector q = (IntVector) flipped.convertShape(VectorOperators.B2I, I, p);
                    FloatVector low = (FloatVector) q.lanewise(VectorOperators.LSHL, 28).lanewise(VectorOperators.ASHR, 28).convert(VectorOperators.I2F, 0);
                    FloatVector high = (FloatVector) q.lanewise(VectorOperators.ASHR, 4).convert(VectorOperators.I2F, 0);
                    int xk = xi + k + p * F.length();
                    blockSum = low.fma(FloatVector.fromArray(F, x, xk), blockSum);
                    blockSum = high.fma(FloatVector.fromArray(F, x, xk + 16), blockSum);
                }
            }
            acc = blockSum.fma(FloatVector.broadcast(F, f16(data, base)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
