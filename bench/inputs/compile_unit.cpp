// Input for the g++ workload: an ordinary translation unit that pulls in the
// containers most C++ code uses and instantiates a few templates, so the
// compiler builds large trees and symbol tables (many small allocations).
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct Order {
  std::string customer;
  std::vector<double> amounts;
};

std::map<std::string, double> total_by_customer(const std::vector<Order>& orders) {
  std::map<std::string, double> totals;
  for (const auto& order : orders)
    for (double amount : order.amounts) totals[order.customer] += amount;
  return totals;
}

std::vector<std::pair<std::string, double>> top_customers(const std::vector<Order>& orders, size_t count) {
  const auto totals = total_by_customer(orders);
  std::vector<std::pair<std::string, double>> ranked(totals.begin(), totals.end());
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  ranked.resize(std::min(count, ranked.size()));
  return ranked;
}

std::unordered_map<std::string, double> discount_rates() {
  return {{"none", 1.0}, {"ten", 0.9}, {"bulk", 0.8}};
}

std::string describe(const std::vector<Order>& orders) {
  std::string out;
  for (const auto& [customer, total] : top_customers(orders, 3))
    out += customer + ": " + std::to_string(total) + '\n';
  return out;
}

int main() {
  std::vector<Order> orders = {{"ada", {12.5, 99}}, {"bob", {300}}, {"cy", {1, 2, 3}}};
  const auto rates = discount_rates();
  for (auto& order : orders)
    for (double& amount : order.amounts) amount *= rates.at(amount > 100 ? "bulk" : "none");
  std::fputs(describe(orders).c_str(), stdout);
  auto shared = std::make_shared<std::vector<Order>>(orders);
  return shared->size() == 3 ? 0 : 1;
}
