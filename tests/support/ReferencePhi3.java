package support;

import java.nio.file.Path;
import llm.FloatTensor;
import llm.Gguf;

/**
 * A slow, obviously correct Phi-3 forward pass to test the engine against. Written separately from
 * lib/llm/Phi3.java and Attention.java on purpose (its own RoPE, softmax, norm and attention, in the
 * shape of Hugging Face's modeling_phi3.py): every weight is dequantized once into plain arrays, all
 * arithmetic is in double, there is no KV cache, and every call recomputes the whole sequence.
 */
public final class ReferencePhi3 {

    public final int dim, layers, heads, kvHeads, headSize, ff, vocab, rotaryDims;
    public final double eps, ropeBase;
    /** true: phi3 files, Hugging Face's rotate_half (NEOX); false: llama files, adjacent pairs. */
    public final boolean neox;

    private final double[][] embedding, lmHead;
    private final double[][][] wq, wk, wv, wo, wGate, wUp, wDown;
    private final double[][] attnNorm, ffnNorm;
    private final double[] outNorm;

    private ReferencePhi3(Gguf g) {
        String arch = g.getString("general.architecture");
        neox = arch.equals("phi3");
        dim = g.getInt(arch + ".embedding_length");
        layers = g.getInt(arch + ".block_count");
        heads = g.getInt(arch + ".attention.head_count");
        kvHeads = g.getInt(arch + ".attention.head_count_kv", heads);
        headSize = dim / heads;
        ff = g.getInt(arch + ".feed_forward_length");
        rotaryDims = g.getInt(arch + ".rope.dimension_count", headSize);
        eps = g.getFloat(arch + ".attention.layer_norm_rms_epsilon");
        ropeBase = g.getFloat(arch + ".rope.freq_base", 10000f);
        embedding = rows(g, "token_embd.weight", dim);
        vocab = embedding.length;
        lmHead = g.tensors().containsKey("output.weight") ? rows(g, "output.weight", dim) : embedding;
        outNorm = rows(g, "output_norm.weight", dim)[0];
        int kv = kvHeads * headSize;
        wq = new double[layers][][]; wk = new double[layers][][]; wv = new double[layers][][]; wo = new double[layers][][];
        wGate = new double[layers][][]; wUp = new double[layers][][]; wDown = new double[layers][][];
        attnNorm = new double[layers][]; ffnNorm = new double[layers][];
        for (int l = 0; l < layers; l++) {
            String p = "blk." + l + ".";
            attnNorm[l] = rows(g, p + "attn_norm.weight", dim)[0];
            ffnNorm[l] = rows(g, p + "ffn_norm.weight", dim)[0];
            if (g.tensors().containsKey(p + "attn_qkv.weight")) {
                double[][] qkv = rows(g, p + "attn_qkv.weight", dim);
                wq[l] = slice(qkv, 0, dim);
                wk[l] = slice(qkv, dim, kv);
                wv[l] = slice(qkv, dim + kv, kv);
            } else {
                wq[l] = rows(g, p + "attn_q.weight", dim);
                wk[l] = rows(g, p + "attn_k.weight", dim);
                wv[l] = rows(g, p + "attn_v.weight", dim);
            }
            wo[l] = rows(g, p + "attn_output.weight", dim);
            if (g.tensors().containsKey(p + "ffn_gate.weight")) {
                wGate[l] = rows(g, p + "ffn_gate.weight", dim);
                wUp[l] = rows(g, p + "ffn_up.weight", dim);
            } else { // gate_up_proj: gate rows first, then up
                double[][] gateUp = rows(g, p + "ffn_up.weight", dim);
                wGate[l] = slice(gateUp, 0, ff);
                wUp[l] = slice(gateUp, ff, ff);
            }
            wDown[l] = rows(g, p + "ffn_down.weight", ff);
        }
    }

    public static ReferencePhi3 load(Path file) {
        try (Gguf g = Gguf.open(file)) {
            return new ReferencePhi3(g);
        }
    }

    /** The tensor as rows of {@code rowLength} dequantized values. */
    private static double[][] rows(Gguf g, String name, int rowLength) {
        FloatTensor t = g.tensor(name);
        int n = (int) (t.size() / rowLength);
        double[][] rows = new double[n][rowLength];
        float[] row = new float[rowLength];
        for (int r = 0; r < n; r++) {
            t.dequantize((long) r * rowLength, row, 0, rowLength);
            for (int i = 0; i < rowLength; i++) rows[r][i] = row[i];
        }
        return rows;
    }

    private static double[][] slice(double[][] rows, int from, int count) {
        double[][] out = new double[count][];
        System.arraycopy(rows, from, out, 0, count);
        return out;
    }

    private static double[] times(double[][] w, double[] x) {
        double[] y = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double s = 0;
            for (int i = 0; i < x.length; i++) s += w[r][i] * x[i];
            y[r] = s;
        }
        return y;
    }

    private double[] rmsNorm(double[] x, double[] weight) {
        double meanSquare = 0;
        for (double v : x) meanSquare += v * v;
        meanSquare /= x.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = weight[i] * (x[i] / Math.sqrt(meanSquare + eps));
        return y;
    }

    /** Rotary embedding of one head (a copy), position p. */
    private double[] rotate(double[] head, int p) {
        double[] out = head.clone();
        int half = rotaryDims / 2;
        if (neox) {
            // modeling_phi3: q * cos + rotate_half(q) * sin, with cos/sin = cat(freqs, freqs)
            double[] cos = new double[rotaryDims], sin = new double[rotaryDims];
            for (int i = 0; i < rotaryDims; i++) {
                double invFreq = 1.0 / Math.pow(ropeBase, (2.0 * (i % half)) / rotaryDims);
                cos[i] = Math.cos(p * invFreq);
                sin[i] = Math.sin(p * invFreq);
            }
            for (int i = 0; i < rotaryDims; i++) {
                double rotatedHalf = i < half ? -head[i + half] : head[i - half];
                out[i] = head[i] * cos[i] + rotatedHalf * sin[i];
            }
        } else {
            // RoFormer: pairs (2i, 2i+1) as complex numbers multiplied by e^(i·p·θ_i)
            for (int i = 0; i < half; i++) {
                double angle = p / Math.pow(ropeBase, (2.0 * i) / rotaryDims);
                double re = head[2 * i], im = head[2 * i + 1];
                out[2 * i] = re * Math.cos(angle) - im * Math.sin(angle);
                out[2 * i + 1] = re * Math.sin(angle) + im * Math.cos(angle);
            }
        }
        return out;
    }

    private static double[] part(double[] v, int from, int length) {
        double[] out = new double[length];
        System.arraycopy(v, from, out, 0, length);
        return out;
    }

    /** Hidden states after the final norm for every position of {@code tokens}. */
    public double[][] hidden(int[] tokens) {
        int n = tokens.length;
        double[][] x = new double[n][];
        for (int t = 0; t < n; t++) x[t] = embedding[tokens[t]].clone();
        int group = heads / kvHeads;
        for (int l = 0; l < layers; l++) {
            double[][][] q = new double[n][heads][], k = new double[n][kvHeads][], v = new double[n][kvHeads][];
            for (int t = 0; t < n; t++) {
                double[] h = rmsNorm(x[t], attnNorm[l]);
                double[] qt = times(wq[l], h), kt = times(wk[l], h), vt = times(wv[l], h);
                for (int hd = 0; hd < heads; hd++) q[t][hd] = rotate(part(qt, hd * headSize, headSize), t);
                for (int g = 0; g < kvHeads; g++) {
                    k[t][g] = rotate(part(kt, g * headSize, headSize), t);
                    v[t][g] = part(vt, g * headSize, headSize);
                }
            }
            for (int t = 0; t < n; t++) {
                double[] attended = new double[dim];
                for (int hd = 0; hd < heads; hd++) {
                    int g = hd / group;
                    double[] weights = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {
                        double score = 0;
                        for (int i = 0; i < headSize; i++) score += q[t][hd][i] * k[s][g][i];
                        weights[s] = score / Math.sqrt(headSize);
                        max = Math.max(max, weights[s]);
                    }
                    double z = 0;
                    for (int s = 0; s <= t; s++) z += weights[s] = Math.exp(weights[s] - max);
                    for (int s = 0; s <= t; s++)
                        for (int i = 0; i < headSize; i++) attended[hd * headSize + i] += weights[s] / z * v[s][g][i];
                }
                double[] o = times(wo[l], attended);
                for (int i = 0; i < dim; i++) x[t][i] += o[i];
                double[] h = rmsNorm(x[t], ffnNorm[l]);
                double[] gate = times(wGate[l], h), up = times(wUp[l], h);
                double[] act = new double[ff];
                for (int i = 0; i < ff; i++) act[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                double[] down = times(wDown[l], act);
                for (int i = 0; i < dim; i++) x[t][i] += down[i];
            }
        }
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) out[t] = rmsNorm(x[t], outNorm);
        return out;
    }

    /** Logits at every position of {@code tokens}, {@code [n][vocab]}. */
    public double[][] logits(int[] tokens) {
        double[][] h = hidden(tokens);
        double[][] logits = new double[h.length][];
        for (int t = 0; t < h.length; t++) logits[t] = times(lmHead, h[t]);
        return logits;
    }

    /** Greedy continuation: {@code count} argmax tokens, recomputing the whole sequence for each. */
    public int[] greedy(int[] prompt, int count) {
        int[] sequence = java.util.Arrays.copyOf(prompt, prompt.length + count);
        for (int step = 0; step < count; step++) {
            int[] sofar = java.util.Arrays.copyOf(sequence, prompt.length + step);
            double[] h = hidden(sofar)[sofar.length - 1];
            double[] logits = times(lmHead, h);
            int best = 0;
            for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
            sequence[prompt.length + step] = best;
        }
        return java.util.Arrays.copyOfRange(sequence, prompt.length, sequence.length);
    }
}
