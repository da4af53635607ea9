"""A classifier on synthetic data: DataLoader, Dropout, LayerNorm, an lr scheduler and Adam."""
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
centres = torch.randn(3, 8) * 2
labels = torch.randint(0, 3, (600,))
features = centres[labels] + torch.randn(600, 8)
loader = DataLoader(TensorDataset(features, labels), batch_size=32, shuffle=True)

model = nn.Sequential(nn.Linear(8, 32), nn.LayerNorm(32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))
print(model)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

for epoch in range(5):
    model.train()
    total, correct = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
    scheduler.step()
    print(f"epoch {epoch}: loss {total / len(features):.4f}, accuracy {correct / len(features):.3f}, "
          f"lr {scheduler.get_last_lr()[0]:.5f}")

model.eval()
with torch.no_grad():
    predictions = model(features[:10]).argmax(dim=1)
print("predictions", predictions.tolist())
print("labels     ", labels[:10].tolist())
