"""TAC's clustering losses in PyTorch, shared by the PyTorch sides of the training benchmarks
(bench/train_step.py, train_epoch.py, train_fashion.py). Same math as satc's step graph and
test/reference/train_step.py (which stays self-contained, in float64, as the tests' reference).
"""
import torch
import torch.nn.functional as F


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
