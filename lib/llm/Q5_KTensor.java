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
 * Q5_K: like Q4_K with a fifth bit per value, 176 bytes per 256 values (ggml's block_q5_K):
 * fp16 d, fp16 dmin, 12 bytes of 6-bit scales/mins, 32 bytes qh of high bits, 128 bytes of nibbles.
 * Value 64c + l (l &lt; 32) takes the low nibble of qs[32c + l] and bit 2c of qh[l]; value 64c + 32 + l the
 * high nibble and bit 2c + 1. value = d * scale * q - dmin * min, q in 0..31.
 */
public final class Q5_KTensor extends FloatTensor {

    static final int BLOCK = 256;
    static final int BYTES = 176;

    Q5_KTensor(MemorySegment data, long[] shape, long size) {
        super(GgmlType.Q5_K, data, shape, size);
    }

    @Override
    public float getFloat(long index) {
        Objects.checkIndex(index, size);
        long base = index / BLOCK * BYTES;
        int e = (int) (index % BLOCK);
        int chunk = e / 64, within = e % 64, l = within % 32;
        int sub = 2 * chunk + within / 32;
        int packed = u8(data, base + 48 + 32 * chunk + l);
        int high = (u8(data, base + 16 + l) >> sub) & 1;
        int q = (within < 32 ? packed & 0xF : packed >> 4) + (high << 4);
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
                int packed = u8(data, base + 48 + 32 * chunk + l);
                int qh = u8(data, base + 16 + l);
                out[o + l] = d1 * ((packed & 0xF) + (((qh >> (2 * chunk)) & 1) << 4)) - m1;
                out[o + 32 + l] = d2 * ((packed >> 4) + (((qh >> (2 * chunk + 1)) & 1) << 4)) - m2;
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
            ByteVector qh0 = load16(data, base + 16);
            ByteVector qh1 = load16(data, base + 32);
            for (int chunk = 0; chunk < 4; chunk++) {
                FloatVector d1 = FloatVector.broadcast(F, d * kScale(data, base + 4, 2 * chunk));
                FloatVector m1 = FloatVector.broadcast(F, -(dmin * kMin(data, base + 4, 2 * chunk)));
                FloatVector d2 = FloatVector.broadcast(F, d * kScale(data, base + 4, 2 * chunk + 1));
                FloatVector m2 = FloatVector.broadcast(F, -(dmin * kMin(data, base + 4, 2 * chunk + 1)));
                int xi = xOffset + b * BLOCK + 64 * chunk;
                for (int h = 0; h < 2; h++) {
                    ByteVector packed = load16(data, base + 48 + 32 * chunk + 16 * h);
                    ByteVector qh = h == 0 ? qh0 : qh1;
                    ByteVector hiLo = qh.lanewise(VectorOperators.LSHR, 2 * chunk).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                    ByteVector hiHi = qh.lanewise(VectorOperators.LSHR, 2 * chunk + 1).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
                    acc = fmaBytes(packed.and((byte) 0x0F).or(hiLo), d1, m1, x, xi + 16 * h, acc);
                    acc = fmaBytes(packed.lanewise(VectorOperators.LSHR, 4).or(hiHi), d2, m2, x, xi + 32 + 16 * h, acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
