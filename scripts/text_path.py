"""How far the prompt reaches the prediction, for a car model: the text projection of two
captions that differ in "left"/"right" against the timestep embedding (PROJ), and x0-hat from one
noise draw under other prompts against "a car driving left ..." at t = 999, 950, 800, 500.

    python3 scripts/text_path.py MODEL
"""
import sys, torch
sys.path.insert(0, "scripts"); sys.path.insert(0, "python")
import diagnose_objects as D
torch.set_num_threads(1)
model, meta = D.load_denoiser(sys.argv[1]); model.eval()
enc = D.encoder()
e = enc(["a car driving left along a road at night", "a car driving right along a road at night", "a red ball bouncing"])
with torch.no_grad():
    p = model.textProjection(e)
    te = model.timeEmbedding(torch.tensor([999, 500, 50]))
print("|e_L - e_R|", float((e[0]-e[1]).norm()), " |e_L - e_ball|", float((e[0]-e[2]).norm()))
print("|P e_L - P e_R|", float((p[0]-p[1]).norm()), " |P e_L - P e_ball|", float((p[0]-p[2]).norm()), " |P e_L|", float(p[0].norm()))
print("|time emb| at 999/500/50", [round(float(x.norm()),3) for x in te], "|te999-te500|", float((te[0]-te[1]).norm()))
W = model.textProjection.weight
print("textProjection weight std", float(W.detach().std()), "shape", tuple(W.shape))

caps = ["a car driving left along a road at night", "a car driving right along a road at night", "a red ball bouncing", "a snowy forest"]
e = torch.cat([enc(caps), torch.zeros(1, 384)])
ab = D.alphas_cumprod(meta)
g = torch.Generator().manual_seed(0)
n = torch.randn(1, 16, 3, 32, 32, generator=g)
for t in (999, 950, 800, 500):
    a, s = ab[t].sqrt(), (1 - ab[t]).sqrt()
    outs = []
    for k in range(len(e)):
        with torch.no_grad():
            v = model(n, torch.full((1,), t), e[k:k+1])
        outs.append(a * n - s * v)
    ref = outs[0]
    print(t, " ".join(f"{nm}:{float((o - ref).abs().mean()):.4f}" for nm, o in zip(["right", "ball", "snow", "empty"], outs[1:])), f"|x0-hat dev| {float((ref - ref.mean()).abs().mean()):.4f}")
