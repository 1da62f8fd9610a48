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

    @Override
    void dequantizeBlock(long block, float[] out, int outOffset) {
        long base = block * BYTES;
        float d = f16(data, base + 208);
        for (int half = 0; half < 2; half++) {
            long ql = base + 64 * half, qh = base + 128 + 32 * half, sc = base + 192 + 8 * half;
            int o = outOffset + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int a = u8(data, ql + l), b = u8(data, ql + l + 32), h = u8(data, qh + l);
                int q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
                int q2 = ((b & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                int q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
                int q4 = ((b >> 4) | (((h >> 6) & 3) << 4)) - 32;
                out[o + l] = d * data.get(I8, sc + is) * q1;
                out[o + l + 32] = d * data.get(I8, sc + is + 2) * q2;
                out[o + l + 64] = d * data.get(I8, sc + is + 4) * q3;
                out[o + l + 96] = d * data.get(I8, sc + is + 6) * q4;
            }
        }
    }

    @Override
    float dotBlocks(long first, float[] x, int xOffset, int blocks) {
        FloatVector acc = FloatVector.zero(F);
        for (int b = 0; b < blocks; b++) {
            long base = (first + b) * BYTES;
            float d = f16(data, base + 208);
            for (int half = 0; half < 2; half++) {
                long ql = base + 64 * half, qh = base + 128 + 32 * half, sc = base + 192 + 8 * half;
                int xi = xOffset + b * BLOCK + 128 * half;
                for (int is = 0; is < 2; is++) { // l = 16 * is .. 16 * is + 15
                    ByteVector a = load16(data, ql + 16 * is);
                    ByteVector bb = load16(data, ql + 32 + 16 * is);
                    ByteVector h = load16(data, qh + 16 * is);
                    ByteVector q1 = a.and((byte) 0xF).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q2 = bb.and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q3 = a.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 4).and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    ByteVector q4 = bb.lanewise(VectorOperators.LSHR, 4).or(h.lanewise(VectorOperators.LSHR, 6).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                    int xl = xi + 16 * is;
                    acc = fmaBytes(q1, FloatVector.broadcast(F, d * data.get(I8, sc + is)), x, xl, acc);
                    acc = fmaBytes(q2, FloatVector.broadcast(F, d * data.get(I8, sc + is + 2)), x, xl + 32, acc);
                    acc = fmaBytes(q3, FloatVector.broadcast(F, d * data.get(I8, sc + is + 4)), x, xl + 64, acc);
                    acc = fmaBytes(q4, FloatVector.broadcast(F, d * data.get(I8, sc + is + 6)), x, xl + 96, acc);
                }
            }
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }
}
