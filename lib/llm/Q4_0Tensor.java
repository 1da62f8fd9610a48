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
