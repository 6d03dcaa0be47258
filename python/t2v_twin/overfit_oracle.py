"""Oracle for the overfit test (Tests/GeneratorTests/OverfitTests.swift) in the PyTorch twin.

Trains the twin's tiny denoiser (8/16 channels, 4 frames of 8x8) on the two clips and prompts of
TrainingTests with the Swift test's recipe (AdamW lr, weight decay 0.01 off biases/norms,
20-step warm-up + cosine, clip 1, v target, uniform t), then samples each prompt with DDIM
(25 trailing steps) from the raw weights and from an EMA copy, and prints the global SSIM to its
own clip and to the other one, plus the v-loss at fixed timesteps.

    python3 python/t2v_twin/overfit_oracle.py SEED STEPS LR [BASE [static]]
    python3 python/t2v_twin/overfit_oracle.py 0 1000 1e-2     # raw weights: own SSIM 0.26 / 0.12
    python3 python/t2v_twin/overfit_oracle.py 0 3000 1e-2     # raw weights: own SSIM 0.94 / 0.84

The first two `prompt` lines are the raw weights, the last two the EMA copy.

The prompts are random unit vectors from torch's generator, not the Swift test's Philox ones, so
the figures match the Swift test in kind, not digit for digit.
"""
import sys, math, torch, numpy as np
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.dirname(__import__('os').path.abspath(__file__))))
from t2v_twin.model import VideoDenoiser, DenoiserConfig
torch.set_num_threads(1)
torch.manual_seed(int(sys.argv[1]) if len(sys.argv)>1 else 0)
F_, S = 4, 8
def clips():
    a = np.full((F_,3,S,S), -0.8, np.float32); b = np.zeros((F_,3,S,S), np.float32)
    for t in range(F_):
        for y in range(S):
            for x in range(S):
                if 2<=y<6 and t<=x<4+t: a[t,0,y,x]=0.9; a[t,1,y,x]=-0.5; a[t,2,y,x]=-0.5
                st = math.sin(2*math.pi*(y+t)/4)
                b[t,0,y,x]=-0.5; b[t,1,y,x]=0.2*st; b[t,2,y,x]=0.9*st
    return torch.tensor(np.stack([a,b]))
X = clips()
if len(sys.argv)>5 and sys.argv[5]=='static': X = X[:, :1].expand(-1, F_, -1, -1, -1).contiguous()
P = torch.randn(2,384); P = P/P.norm(dim=1,keepdim=True)
base=int(sys.argv[4]) if len(sys.argv)>4 else 8
cfg = DenoiserConfig(baseChannels=base, channelMultipliers=[1,2], heads=2, groups=4, frames=4, resolution=8, maxFrameDistance=4)
m = VideoDenoiser(cfg)
betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
abar = torch.cumprod(1-betas, 0)
steps = int(sys.argv[2]) if len(sys.argv)>2 else 1000
lr = float(sys.argv[3]) if len(sys.argv)>3 else 1e-2
decay, nodecay = [], []
for n,p in m.named_parameters(): (nodecay if p.ndim<=1 or 'norm' in n else decay).append(p)
opt = torch.optim.AdamW([{'params':decay,'weight_decay':0.01},{'params':nodecay,'weight_decay':0}], lr=lr)
def sched(s):
    if s < 20: return lr*(s+1)/20
    p = min(max((s-20)/(steps-20),0),1); return 0.5*lr*(1+math.cos(math.pi*p))
import copy
ema=copy.deepcopy(m)
losses=[]
for s in range(steps):
    t = torch.randint(0,1000,(2,))
    a = abar[t].sqrt().float().view(2,1,1,1,1); sg = (1-abar[t]).sqrt().float().view(2,1,1,1,1)
    eps = torch.randn_like(X); xt = a*X+sg*eps; v = a*eps - sg*X
    out = m(xt, t, P)
    loss = ((out-v)**2).mean()
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    for g in opt.param_groups: g['lr']=sched(s)
    opt.step(); losses.append(loss.item())
    d=min(0.999,(1+s)/(10+s))
    with torch.no_grad():
        for pe,pm in zip(ema.parameters(), m.parameters()): pe.mul_(d).add_(pm,alpha=1-d)
with torch.no_grad():
    for tt in [10,100,300,500,700,900,990]:
        t=torch.tensor([tt,tt]); a=abar[t].sqrt().float().view(2,1,1,1,1); sg=(1-abar[t]).sqrt().float().view(2,1,1,1,1)
        ls=[]
        for r in range(8):
            eps=torch.randn_like(X); xt=a*X+sg*eps; v=a*eps-sg*X; ls.append(((m(xt,t,P)-v)**2).mean().item())
        print('t',tt,'vloss %.4f'%np.mean(ls), 'x0-mse %.4f'%(np.mean(ls)*(1-abar[tt].item())), end='; ')
    print()
print('loss first10 %.4f last10 %.4f' % (np.mean(losses[:10]), np.mean(losses[-10:])))
def gssim(x,y):
    x=(x.double()+1)/2; y=(y.double()+1)/2; tot=0; n=0
    for f in range(F_):
        for c in range(3):
            a=x[f,c].flatten(); b=y[f,c].flatten(); ma,mb=a.mean(),b.mean()
            va=((a-ma)**2).mean(); vb=((b-mb)**2).mean(); cov=((a-ma)*(b-mb)).mean()
            tot += ((2*ma*mb+1e-4)*(2*cov+9e-4))/((ma*ma+mb*mb+1e-4)*(va+vb+9e-4)); n+=1
    return float(tot/n)
ts = [int(round(1000 - i*1000/25))-1 for i in range(25)]
m_raw=m
for m in [m_raw, ema]:
 with torch.no_grad():
  for k in range(2):
    x = torch.randn(1,F_,3,S,S)
    for i,t in enumerate(ts):
        ab = abar[t].item(); ab_s = abar[ts[i+1]].item() if i+1<len(ts) else 1.0
        v = m(x, torch.tensor([t]), P[k:k+1])
        x0 = math.sqrt(ab)*x - math.sqrt(1-ab)*v; e = math.sqrt(1-ab)*x + math.sqrt(ab)*v
        x = math.sqrt(ab_s)*x0 + math.sqrt(1-ab_s)*e
    print('prompt', k, 'own %.3f other %.3f' % (gssim(x[0],X[k]), gssim(x[0],X[1-k])))
