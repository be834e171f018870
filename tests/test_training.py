"""End to end: the student paper's 64-32-16-10 network on the digits, written as in PyTorch."""

import numpy as np

import tinygrad_es as tg
from tinygrad_es import data, nn, optim


def digits_splits():
    X, y = data.load_digits()
    return data.train_val_test_split(X, y, fractions=(0.6, 0.2, 0.2), seed=0)


def train(model, optimizer, X_train, y_train, epochs, batch_size=32):
    loss_fn = nn.CrossEntropyLoss()
    loader = data.DataLoader(X_train, y_train, batch_size=batch_size, shuffle=True)
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    return loss.item()


@tg.no_grad()
def evaluate(model, X, y):
    model.eval()
    return data.accuracy(model(tg.Tensor(X)), y)


def test_sigmoid_network_with_the_papers_xavier_init_and_sgd_reaches_95_percent():
    tg.manual_seed(0)
    X_train, y_train, X_val, y_val, X_test, y_test = digits_splits()
    model = nn.Sequential(
        nn.Dense(64, 32, activation="sigmoid", init="xavier_paper", bias_init="gaussian"),
        nn.Dense(32, 16, activation="sigmoid", init="xavier_paper", bias_init="gaussian"),
        nn.Dense(16, 10, init="xavier_paper", bias_init="gaussian"),
    )
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    final_loss = train(model, optimizer, X_train, y_train, epochs=60)
    assert np.isfinite(final_loss)
    assert evaluate(model, X_val, y_val) >= 0.95
    assert evaluate(model, X_test, y_test) >= 0.93


def test_relu_network_with_he_init_and_adam_reaches_96_percent():
    tg.manual_seed(0)
    X_train, y_train, X_val, y_val, _, _ = digits_splits()
    model = nn.Sequential(
        nn.Dense(64, 32, activation="relu", init="he_normal"),
        nn.Dense(32, 16, activation="relu", init="he_normal"),
        nn.Dense(16, 10, init="he_normal"),
    )
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    train(model, optimizer, X_train, y_train, epochs=40)
    assert evaluate(model, X_val, y_val) >= 0.96


def test_same_seed_same_training_run():
    X_train, y_train = digits_splits()[:2]

    def run():
        tg.manual_seed(5)
        model = nn.Sequential(nn.Dense(64, 16, activation="tanh"), nn.Dense(16, 10))
        train(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9), X_train, y_train, epochs=2)
        return model.state_dict()

    first, second = run(), run()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_papers_quadratic_cost_with_sigmoid_outputs_learns_the_digits():
    tg.manual_seed(0)
    X_train, y_train, X_val, y_val, _, _ = digits_splits()
    model = nn.Sequential(
        *(
            nn.Dense(n_in, n_out, activation="sigmoid", init="xavier_paper", bias_init="gaussian")
            for n_in, n_out in [(64, 32), (32, 16), (16, 10)]
        )
    )
    optimizer = optim.SGD(model.parameters(), lr=3.0)
    targets = data.one_hot(y_train, 10)
    for _ in range(60):
        for xb, tb in data.DataLoader(X_train, targets, batch_size=32, shuffle=True):
            loss = nn.HalfMSELoss()(model(xb), tb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    assert evaluate(model, X_val, y_val) >= 0.93
