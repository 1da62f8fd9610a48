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

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BYTES;
        float d = f16(data, base);
        float dmin = f16(data, base + 2);
        for (int chunk = 0; chunk < 4; chunk++) {
            float d1 = d * kScale(data, base + 4, 2 * chunk), m1 = dmin * kMin(data, base + 4, 2 * chunk);
            float d2 = d * kScale(data, base + 4, 2 * chunk + 1), m2 = dmin * kMin(data, base + 4, 2 * chunk + 1);
            int o = outOffset + 64 * chunk;
            for (int l = 0; l < 32; l++) {
                int packed = u8(data, base + 16 + 32 * chunk + l);
                out[o + l] = d1 * (packed & 0xF) - m1;
                out[o + 32 + l] = d2 * (packed >> 4) - m2;
            }
        }
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            float d = f16(data, base);
            float dmin = f16(data, base + 2);
            for (int chunk = 0; chunk < 4; chunk++) {
                FloatVector d1 = FloatVector.broadcast(F, d * kScale(data, base + 4, 2 * chunk));
                FloatVector m1 = FloatVector.broadcast(F, -(dmin * kMin(data, base + 4, 2 * chunk)));
                FloatVector d2 = FloatVector.broadcast(F, d * kScale(data, base + 4, 2 * chunk + 1));
                FloatVector m2 = FloatVector.broadcast(F, -(dmin * kMin(data, base + 4, 2 * chunk + 1)));
                int xi = xOffset + b * BLOCK + 64 * chunk;
                for (int h = 0; h < 2; h++) {
                    ByteVector packed = load16(data, base + 16 + 32 * chunk + 16 * h);
                    acc = fmaBytes(packed.and((byte) 0x0F), d1, m1, x, xi + 16 * h, acc);
                    acc = fmaBytes(packed.lanewise(VectorOperators.LSHR, 4), d2, m2, x, xi + 32 + 16 * h, acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
