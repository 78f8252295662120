"""TAC's clustering losses in PyTorch, shared by the PyTorch sides of the training benchmarks
(bench/train_step.py, train_epoch.py, train_fashion.py), and the single-view head and loss of
train_epoch.py and train_fashion.py. Same math as satc's step graph and
test/reference/train_step.py (which stays self-contained, in float64, as the tests' reference).
"""
import torch
import torch.nn.functional as F
from torch import nn


class TacLosses:
    """Distill (cluster-level contrastive, temperature T), Consist and batch-mean entropy for K clusters."""

    def __init__(self, K, T=0.5):
        self.K, self.T = K, T
        mask = torch.ones((2 * K, 2 * K)).fill_diagonal_(0)
        for i in range(K):
            mask[i, K + i] = 0
            mask[K + i, i] = 0
        self.mask = mask.bool()

    @staticmethod
    def entropy(p):
        m = torch.clamp(p.mean(dim=0), min=1e-9)
        return -(m * torch.log(m)).sum()

    @staticmethod
    def consistency(p, q):
        s = (p * q).sum(dim=1)
        return F.binary_cross_entropy(s, torch.ones_like(s))

    def distill(self, ci, cj):
        K = self.K
        c = F.normalize(torch.cat((ci.t(), cj.t()), dim=0), dim=1)
        sim = c @ c.t() / self.T
        pos = torch.cat((torch.diag(sim, K), torch.diag(sim, -K))).reshape(2 * K, 1)
        neg = sim[self.mask].reshape(2 * K, -1)
        return F.cross_entropy(torch.cat((pos, neg), dim=1), torch.zeros(2 * K, dtype=torch.long), reduction="sum") / (2 * K)


def cluster_head(in_dim, hidden, K):
    """One head as satc initialises it: Linear -> BatchNorm1d -> ReLU -> Linear -> Softmax, weights trunc-normal std 0.02."""
    h = nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, K), nn.Softmax(dim=1))
    nn.init.trunc_normal_(h[0].weight, std=0.02)
    nn.init.trunc_normal_(h[3].weight, std=0.02)
    return h


def single_view_loss(losses, h, h2, x, nbr, idx):
    """The loss of one view's batch idx, satc's trainHeads singleView: twin (h2 given: each head its
    own neighbour draw, Distill(p1(a), p2(n2)) + Distill(p2(a), p1(n1)) + Consist(p1(a), p2(a))
    - 5 (H(p1(a)) + H(p2(a)))) or self (h2 None: Distill(p(a), p(n)) + Consist(p(a), p(n)) - 5 H(p(a)))."""
    nb = nbr[idx, torch.randint(0, nbr.shape[1], (len(idx),))]
    pa, pn = h(x[idx]), h(x[nb])
    if h2 is None:
        return losses.distill(pa, pn) + losses.consistency(pa, pn) - 5 * losses.entropy(pa)
    nb2 = nbr[idx, torch.randint(0, nbr.shape[1], (len(idx),))]
    qa, qn = h2(x[idx]), h2(x[nb2])
    return losses.distill(pa, qn) + losses.distill(qa, pn) + losses.consistency(pa, qa) - 5 * (losses.entropy(pa) + losses.entropy(qa))
