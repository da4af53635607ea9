"""An embedding bag-of-words model: nn.Embedding, mean pooling, log_softmax, NLLLoss and SGD."""
import torch
from torch import nn
import torch.nn.functional as F

torch.manual_seed(1)
vocab_size, classes, length = 50, 4, 6
# each class favours its own slice of the vocabulary
sentences = torch.randint(0, vocab_size, (200, length))
targets = sentences[:, 0] % classes
sentences[:, 1] = targets * 12 + torch.randint(0, 12, (200,))


class BagOfWords(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, 16, padding_idx=0)
        self.linear = nn.Linear(16, classes)

    def forward(self, tokens):
        return F.log_softmax(self.linear(self.embedding(tokens).mean(dim=1)), dim=1)


model = BagOfWords()
print(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
loss_fn = nn.NLLLoss()
for epoch in range(8):
    permutation = torch.randperm(len(sentences))
    total = 0.0
    for start in range(0, len(sentences), 25):
        batch = permutation[start:start + 25]
        optimizer.zero_grad()
        loss = loss_fn(model(sentences[batch]), targets[batch])
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch}: loss {total / 8:.4f}")

with torch.no_grad():
    accuracy = (model(sentences).argmax(1) == targets).float().mean()
print(f"accuracy {accuracy.item():.3f}")
print("padding row stays zero:", bool((model.embedding.weight[0] == 0).all()))
