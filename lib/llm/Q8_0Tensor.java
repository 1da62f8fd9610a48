//SOURCES FloatTensor.java
//COMPILE_OPTIONS --add-modules=jdk.incubator.vector
//RUNTIME_OPTIONS --add-modules=jdk.incubator.vector
package llm;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Q8_0: blocks of 32 values, each block an fp16 scale d followed by 32 signed bytes q;
 * value = q * d. (ggml's block_q8_0, 34 bytes.)
 */
public final class Q8_0Tensor extends FloatTensor {

    static final int BLOCK = 32;
    static final int BYTES = 34;

    Q8_0Tensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.Q8_0, data, shape, size);
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, size);
        long base = index / BLOCK * BYTES;
        return data.get(I8, base + 2 + index % BLOCK) * f16(data, base);
    }

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BYTES;
        FloatVector d = FloatVector.broadcast(F, f16(data, base));
        for (int k = 0; k < BLOCK; k += L) {
            ByteVector q = loadBytes(data, base + 2 + k);
            for (int p = 0; p < PARTS; p++) widen(q, p).mul(d).intoArray(out, outOffset + k + p * F.length());
        }
    }

    /**
     * Per block: sum q * x over its 32 values first, then one multiply by d. With 512-bit vectors, as Q4_0's
     * kernel (see there why): the loop over blocks the only loop, four blocks per step into two
     * accumulators. A block's steps are {@link #blockTimesX}, which the lib's JVM
     * options force C2 to inline (compiled on its own, it would box every vector that crosses the call).
     * Other vector sizes: {@link #dotBlocksAnyWidth}.
     */
    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        if (L != 16) return dotBlocksAnyWidth(first, x, xOffset, blocks);
        long start = first * BYTES;
        FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
        int b = 0;
        for (; b + 4 <= blocks; b += 4) {
            long base = start + b * (long) BYTES; // this form, not a second induction variable: 1.05-1.1x
            int xi = xOffset + b * BLOCK;
            acc0 = blockTimesX(base, FloatVector.fromArray(F, x, xi), FloatVector.fromArray(F, x, xi + 16), acc0);
            acc1 = blockTimesX(base + BYTES, FloatVector.fromArray(F, x, xi + 32), FloatVector.fromArray(F, x, xi + 48), acc1);
            acc0 = blockTimesX(base + 2 * BYTES, FloatVector.fromArray(F, x, xi + 64), FloatVector.fromArray(F, x, xi + 80), acc0);
            acc1 = blockTimesX(base + 3 * BYTES, FloatVector.fromArray(F, x, xi + 96), FloatVector.fromArray(F, x, xi + 112), acc1);
        }
        float sum = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        return b < blocks ? sum + dotBlocksAnyWidth(first + b, x, xOffset + b * BLOCK, blocks - b) : sum; // the last blocks
    }

    /**
     * Long rows ({@link #LONG_ROW}), four side by side: each x vector loaded once for four rows, one
     * accumulator per row. (Four rows, one block per step: with a bigger loop body C2 stops inlining
     * blockTimesX, see {@link Q4_0Tensor#dotBlocks}.)
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
            acc0 = blockTimesX(base, xLow, xHigh, acc0);
            acc1 = blockTimesX(base + rowBytes, xLow, xHigh, acc1);
            acc2 = blockTimesX(base + 2 * rowBytes, xLow, xHigh, acc2);
            acc3 = blockTimesX(base + 3 * rowBytes, xLow, xHigh, acc3);
        }
        out[outOffset] = acc0.reduceLanes(VectorOperators.ADD);
        out[outOffset + 1] = acc1.reduceLanes(VectorOperators.ADD);
        out[outOffset + 2] = acc2.reduceLanes(VectorOperators.ADD);
        out[outOffset + 3] = acc3.reduceLanes(VectorOperators.ADD);
    }

    /** acc + d * (sum of the block's q times x), the block at byte base; xLow, xHigh: x over its two halves of 16. */
    private FloatVector blockTimesX(long base, FloatVector xLow, FloatVector xHigh, FloatVector acc) {
        FloatVector sum = widen(loadBytes(data, base + 2), 0).mul(xLow);
        sum = widen(loadBytes(data, base + 18), 0).fma(xHigh, sum);
        return sum.fma(FloatVector.broadcast(F, f16(data, base)), acc);
    }

    /** {@link #dotBlocks} for any vector size: a block's 32 bytes in loads of L, one block at a time. */
    float dotBlocksAnyWidth(long first, float[] x, int xOffset, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        long base = first * BYTES;
        for (int b = 0, xi = xOffset; b < blocks; b++, base += BYTES, xi += BLOCK) {
            FloatVector blockSum = FloatVector.zero(F);
            for (int k = 0; k < BLOCK; k += L) {
                blockSum = fmaBytes(loadBytes(data, base + 2 + k), x, xi + k, blockSum);
            }
            acc = blockSum.fma(FloatVector.broadcast(F, f16(data, base)), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
