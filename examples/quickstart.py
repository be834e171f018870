"""Quickstart: a small classifier for the 8x8 digits, written as one would in PyTorch."""
import numpy as np

import tinygrad_es as tg
from tinygrad_es import data, nn, optim

tg.manual_seed(0)  # repeatable inits and batches


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Dense(64, 64, activation="relu", init="he_normal")
        self.out = nn.Dense(64, 10)  # logits; the loss applies the softmax

    def forward(self, x):
        return self.out(self.hidden(x))


def main(epochs=10):
    X, y = data.load_digits()
    X_train, y_train, X_val, y_val, X_test, y_test = data.train_val_test_split(X, y, seed=0, stratify=True)
    model = Classifier()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = data.DataLoader(X_train, y_train, batch_size=32, shuffle=True)
    print(model)

    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for x, target in loader:
            loss = loss_fn(model(x), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
        model.eval()
        with tg.no_grad():
            val_accuracy = data.accuracy(model(tg.tensor(X_val)), y_val)
        print(f"epoch {epoch:>2}: train loss {total / len(X_train):.4f}, validation accuracy {val_accuracy:.1%}")

    with tg.no_grad():
        test_accuracy = data.accuracy(model(tg.tensor(X_test)), y_test)
    print(f"test accuracy: {test_accuracy:.1%} ({np.round(test_accuracy * len(y_test)):.0f} of {len(y_test)})")
    return test_accuracy


if __name__ == "__main__":
    main()
